import type { types } from "@slack/bolt";
import type { Block } from "../cards/status.js";

type ModalView = types.ModalView;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null;
const isBlock = (x: unknown): x is Block => isObject(x) && typeof x.type === "string";
const isPlainText = (x: unknown): boolean =>
  isObject(x) && x.type === "plain_text" && typeof x.text === "string";

/** A form as Slack's views.open takes it: cards build them as plain JSON, Slack's types are checked here. */
export function isModalView(v: Record<string, unknown>): v is Record<string, unknown> & ModalView {
  return v.type === "modal" && isPlainText(v.title) && Array.isArray(v.blocks) && v.blocks.every(isBlock);
}
