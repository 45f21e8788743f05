// The lecture's sub- and superscripts for the indices the page builds itself (the unit or edge clicked, a table's
// rows, the output bars); the same rules as glassnet.notation, which writes every label the server sends.
export const SUB_DIGITS = "₀₁₂₃₄₅₆₇₈₉", SUP_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const SUB_LETTER = { i: "ᵢ", j: "ⱼ", k: "ₖ" };

// 12 -> "₁₂"; the letters i, j, k too (Θᵢⱼ in a table's header).
export const sub = (n) => String(n).split("").map((c) => SUB_LETTER[c] || SUB_DIGITS[+c]).join("");
// 6 -> "⁶" (an exponent's digits).
export const superscript = (n) => String(n).split("").map((c) => SUP_DIGITS[+c]).join("");
// The layer superscript: 2 -> "⁽²⁾".
export const sup = (n) => "⁽" + superscript(n) + "⁾";
// Θ_ij^(l), a comma between two-digit indices: Θ₁₂,₃⁽¹⁾.
export const thetaName = (l, i, j) => "Θ" + sub(i) + (i >= 10 || j >= 10 ? "," : "") + sub(j) + sup(l);
