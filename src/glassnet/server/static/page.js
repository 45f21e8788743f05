// The page's entry module: the explorer in the document's body, over HTTP (api.js's default transport).
import { start } from "./explorer.js";

start();
