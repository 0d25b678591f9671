// Uses the types openapi-typescript generates from the served OpenAPI document the way an app would. The suite
// (ContractToolsTests) generates api.d.ts beside a copy of this file and compiles both with `tsc --strict --noEmit`:
// a change of the contract that would break an app's build breaks the test.
import type { components, operations, paths } from "./api";

type Schemas = components["schemas"];
type JsonBody<Operation extends { requestBody?: { content: { "application/json": unknown } } }> =
  NonNullable<Operation["requestBody"]>["content"]["application/json"];
type JsonResponse<Operation extends { responses: Record<number, unknown> }, Status extends keyof Operation["responses"]> =
  Operation["responses"][Status] extends { content: { "application/json": infer Body } } ? Body : never;

// Signing in with an emailed code.
const codeRequest: JsonBody<paths["/api/v1/auth/otp/request"]["post"]> = { email: "ada@example.com" };
const verification: JsonBody<operations["auth_otp_verify"]> = { otp_token: "token", code: "123456" };

function keepSession(signedIn: JsonResponse<operations["auth_otp_verify"], 200>): { token: string; expiresAt: number } {
  const expiresAt: number = Date.now() + signedIn.expires_in * 1000;
  const name: string = signedIn.user.display_name ?? signedIn.user.email ?? "there";
  return { token: `${signedIn.token_type} ${signedIn.access_token}`, expiresAt: name.length > 0 ? expiresAt : 0 };
}

// The wallet: numbers to add up, times to parse.
function describeWallet(wallet: JsonResponse<operations["wallet_get"], 200>, pack: Schemas["CreditPackView"]): string {
  const afterPurchase: number = wallet.balance + pack.credits;
  // A wallet that never moved has no update time.
  const updated: Date | null = wallet.updated_at === null ? null : new Date(wallet.updated_at);
  return `${afterPurchase} credits (was ${wallet.balance}, updated ${updated?.toISOString() ?? "never"})`;
}

// A generation: created with an Idempotency-Key, then read until it finishes.
const generationRequest: JsonBody<operations["generations_create"]> = { type: "text", prompt: "A haiku about ledgers" };
const idempotencyKey: NonNullable<operations["generations_create"]["parameters"]["header"]>["Idempotency-Key"] = "5f0c8a52-1d5c-4b43-9d0e-2f4f4d1f2a11";

function describeGeneration(generation: JsonResponse<operations["generations_get"], 200>): string {
  const status: "queued" | "running" | "succeeded" | "failed" = generation.status;
  const finished: Date | null = generation.completed_at === null ? null : new Date(generation.completed_at);
  switch (status) {
    case "succeeded":
      return generation.result_text ?? generation.download_url ?? `file ${generation.result_file_id}`;
    case "failed":
      // Written as null unless the generation failed.
      return generation.error === null ? "failed" : `${generation.error.code}: ${generation.error.detail}`;
    default:
      return `${status} since ${new Date(generation.created_at).toISOString()} (${finished === null ? "not finished" : "finished"}, cost ${generation.cost + 0})`;
  }
}

const notFailed: Schemas["GenerationView"]["error"] = null;

// Lists come in pages; the cursor goes back as it came.
function nextPage(page: JsonResponse<operations["generations_list"], 200>): operations["generations_list"]["parameters"]["query"] {
  const ids: string[] = page.results.map((generation) => generation.id);
  return page.next_cursor === null ? undefined : { cursor: page.next_cursor, limit: Math.min(ids.length, 50) };
}

// Every non-2xx answer: branch on the stable code, show the detail.
function explain(error: Schemas["ErrorPayload"]): string {
  const first = error.errors[0];
  if (first === undefined) {
    return error.type;
  }

  const code: Schemas["ErrorPayload"]["errors"][number]["code"] = first.code;
  switch (code) {
    case "invalid_credit":
    case "throttled":
      return first.detail;
    default:
      return first.attr === null ? first.detail : `${first.attr}: ${first.detail}`;
  }
}

const failure: JsonResponse<operations["generations_create"], 402> = {
  type: "client_error",
  errors: [{ code: "invalid_credit", detail: "Not enough credits.", attr: null }],
};

export { codeRequest, verification, keepSession, describeWallet, generationRequest, idempotencyKey, describeGeneration, notFailed, nextPage, explain, failure };
