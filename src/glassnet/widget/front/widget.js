/* global APP_SOURCE */
// The anywidget module: each view imports its own copy of the explorer (APP_SOURCE, the bundle of app.js) from a
// blob URL, so that the ES modules' state (state.js's S, the listeners) is per view, then mounts it in el.
export default {
  async render({ model, el }) {
    const url = URL.createObjectURL(new Blob([APP_SOURCE], { type: "text/javascript" }));
    try {
      const app = await import(/* webpackIgnore: true */ url);
      return app.mount(el, model);
    } finally {
      URL.revokeObjectURL(url);
    }
  },
};
