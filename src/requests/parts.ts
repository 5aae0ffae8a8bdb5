import type { ChatMessage, ContentPart } from "../types.js";

export type ImagePart = Extract<ContentPart, { type: "image" }>;

/** The text of a message's content: the string itself, or its text parts joined. */
export function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  return content.map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** A message's content as parts (a string is one text part). */
export function partsOf(content: ChatMessage["content"]): ContentPart[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

export function imagesOf(content: ChatMessage["content"]): ImagePart[] {
  return typeof content === "string"
    ? []
    : content.filter((part): part is ImagePart => part.type === "image");
}

/** An image given as data, as a data: URL (how OpenAI-style APIs take inline images). */
export function imageUrlOf(part: ImagePart): string {
  return "url" in part ? part.url : `data:${part.mediaType};base64,${part.data}`;
}
