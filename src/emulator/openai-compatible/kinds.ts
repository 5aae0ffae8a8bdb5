import type { RequestRejection } from "../engine.js";
import { markersOf, type ReplyPlan } from "../reply.js";
import { type ChatShapeRules, checkChatBody, type PlanParts } from "./chat-shape.js";
import { checkEmbeddingsBody, type EmbeddingsShapeRules } from "./embeddings-shape.js";
import { type Json, openAIRejection, type ShapeProblem } from "./problems.js";
import { checkResponsesBody, type ResponsesShapeRules } from "./responses-shape.js";

/** The request shapes a provider takes, per endpoint kind, with its own checks. */
export interface BodyShapes {
  chat?: ChatShapeRules;
  responses?: ResponsesShapeRules;
  embeddings?: EmbeddingsShapeRules;
}

/** Which kind of body an endpoint takes (Azure also names endpoints without `/v1`). */
export function endpointKind(endpoint: string): keyof BodyShapes | null {
  if (endpoint.endsWith("/chat/completions")) return "chat";
  if (endpoint.endsWith("/responses")) return "responses";
  if (endpoint.endsWith("/embeddings")) return "embeddings";
  return null;
}

/** A plan from what a body asks, with the markers of its text and fate. */
export function planOf(parts: PlanParts, bodyText: string, fate: string): ReplyPlan {
  return { ...parts, markers: markersOf(bodyText, fate), seed: bodyText };
}

/** The problems of a body of `kind`, and what its answer is made of. */
export function readBody(
  kind: keyof BodyShapes,
  body: Json,
  model: string,
  shapes: BodyShapes,
): { problems: ShapeProblem[]; parts: PlanParts } | null {
  if (kind === "chat" && shapes.chat) {
    const { problems, plan } = checkChatBody(body, shapes.chat);
    return { problems, parts: plan };
  }
  if (kind === "responses" && shapes.responses) {
    const { problems, plan } = checkResponsesBody(body, shapes.responses);
    return { problems, parts: plan };
  }
  if (kind === "embeddings" && shapes.embeddings) {
    const { problems, plan } = checkEmbeddingsBody(body, model, shapes.embeddings);
    return { problems, parts: plan };
  }
  return null;
}

/**
 * What an OpenAI-protocol provider makes of one request line's body: the refusal it answers for a malformed
 * request kind (the request then fails alone, as a bad request inside a batch does), or the plan of its answer.
 */
export function openAIKinds(
  endpoint: string,
  body: Json,
  shapes: BodyShapes,
  fate: string,
): { rejection: RequestRejection | null; reply?: ReplyPlan } {
  const kind = endpointKind(endpoint);
  const read = kind ? readBody(kind, body, String(body.model ?? ""), shapes) : null;
  if (!read) return { rejection: null };
  const rejection = openAIRejection(read.problems);
  return rejection
    ? { rejection }
    : { rejection: null, reply: planOf(read.parts, JSON.stringify(body), fate) };
}
