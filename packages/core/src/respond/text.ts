/** The `text/plain` body: for terminals, logs, and clients that accept nothing else. */
import { type Content, whenSentence } from "./content.js";

export function renderText(content: Content): string {
  const lines = [content.title, "", content.message];
  const when = whenSentence(content);
  if (when) lines.push("", when);
  return `${lines.join("\n")}\n`;
}
