import type { ErrorKind, EvaluationReason, EvaluationResult, Snapshot } from "@detour/core";
import {
  ErrorCode,
  StandardResolutionReasons,
  type FlagMetadata,
  type FlagValueType,
  type JsonValue,
  type ResolutionDetails,
  type ResolutionReason,
} from "@openfeature/server-sdk";

/** The OpenFeature error code for each of Detour's error kinds. */
export const ERROR_CODES: Readonly<Record<ErrorKind, ErrorCode>> = Object.freeze({
  FLAG_NOT_FOUND: ErrorCode.FLAG_NOT_FOUND,
  // A flag the evaluator cannot make sense of (bad index, prerequisite cycle...): the configuration did not parse.
  MALFORMED_FLAG: ErrorCode.PARSE_ERROR,
  // A context LaunchDarkly's SDK would refuse (an invalid kind, a part without a key...).
  USER_NOT_SPECIFIED: ErrorCode.INVALID_CONTEXT,
  // Only possible when nothing ever loaded: the provider is not (or no longer) ready.
  STORE_UNAVAILABLE: ErrorCode.PROVIDER_NOT_READY,
});

/**
 * The OpenFeature reason for a Detour reason (see the README's table):
 * OFF and PREREQUISITE_FAILED (both serve the off variation) → DISABLED,
 * TARGET_MATCH and RULE_MATCH → TARGETING_MATCH, FALLTHROUGH → SPLIT when the
 * fallthrough is a percentage rollout, STATIC when the flag has no targeting at
 * all (its value is the same for every context), else DEFAULT; ERROR → ERROR.
 */
export function reasonOf(reason: EvaluationReason, snapshot: Snapshot | undefined, flagKey: string): ResolutionReason {
  switch (reason.kind) {
    case "OFF":
    case "PREREQUISITE_FAILED":
      return StandardResolutionReasons.DISABLED;
    case "TARGET_MATCH":
    case "RULE_MATCH":
      return StandardResolutionReasons.TARGETING_MATCH;
    case "FALLTHROUGH": {
      const traits = snapshot?.traits(flagKey);
      if (traits?.rolloutFallthrough) return StandardResolutionReasons.SPLIT;
      return traits !== undefined && !traits.contextual ? StandardResolutionReasons.STATIC : StandardResolutionReasons.DEFAULT;
    }
    case "ERROR":
      return StandardResolutionReasons.ERROR;
  }
}

/** `flagMetadata`: Detour's own reason, with its rule, prerequisite or error, and the flag's version. */
export function metadataOf(reason: EvaluationReason, snapshot: Snapshot | undefined, flagKey: string): FlagMetadata {
  const metadata: FlagMetadata = { reasonKind: reason.kind };
  switch (reason.kind) {
    case "RULE_MATCH":
      metadata.ruleIndex = reason.ruleIndex;
      if (reason.ruleId !== undefined) metadata.ruleId = reason.ruleId;
      break;
    case "PREREQUISITE_FAILED":
      metadata.prerequisiteKey = reason.prerequisiteKey;
      break;
    case "ERROR":
      metadata.errorKind = reason.errorKind;
      break;
    default:
      break;
  }
  if (reason.kind !== "ERROR") metadata.inExperiment = "inExperiment" in reason && reason.inExperiment === true;
  const version = snapshot?.definition(flagKey)?.version;
  if (typeof version === "number") metadata.version = version;
  return metadata;
}

/** Whether `value` has the type OpenFeature asked for (`object`: a JSON object or array). */
export function hasType(value: JsonValue, type: FlagValueType): boolean {
  return type === "object" ? value !== null && typeof value === "object" : typeof value === type;
}

function describeType(value: JsonValue): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Turns a Detour evaluation into OpenFeature resolution details.
 *
 * - ERROR → the default value, reason ERROR, the error code of the kind.
 * - A `null` value (an off flag without `offVariation`, or a variation whose
 *   value is `null`) → the default value, as `detour.variation()` answers; no
 *   variant, since the value is not a variation's.
 * - A value of another type than asked → the default value, TYPE_MISMATCH.
 * - Otherwise the value, `variant` = the variation index, the mapped reason.
 *
 * `flagMetadata` is set in every case.
 */
export function resolutionOf<T extends JsonValue>(
  result: EvaluationResult,
  type: FlagValueType,
  defaultValue: T,
  flagKey: string,
  snapshot: Snapshot | undefined,
): ResolutionDetails<T> {
  const { reason, value, variationIndex } = result;
  const flagMetadata = metadataOf(reason, snapshot, flagKey);
  if (reason.kind === "ERROR") {
    return {
      value: defaultValue,
      reason: StandardResolutionReasons.ERROR,
      errorCode: ERROR_CODES[reason.errorKind],
      errorMessage: errorMessage(reason.errorKind, flagKey),
      flagMetadata,
    };
  }
  if (value === null) return { value: defaultValue, reason: reasonOf(reason, snapshot, flagKey), flagMetadata };
  if (!hasType(value, type)) {
    return {
      value: defaultValue,
      reason: StandardResolutionReasons.ERROR,
      errorCode: ErrorCode.TYPE_MISMATCH,
      errorMessage: `flag "${flagKey}" evaluated to ${describeType(value)}, not ${type === "object" ? "an object" : `a ${type}`}`,
      flagMetadata,
    };
  }
  // Checked just above: the value has the asked type, which is what T stands for.
  const details: ResolutionDetails<T> = { value: value as T, reason: reasonOf(reason, snapshot, flagKey), flagMetadata };
  if (variationIndex !== null) details.variant = String(variationIndex);
  return details;
}

function errorMessage(kind: ErrorKind, flagKey: string): string {
  switch (kind) {
    case "FLAG_NOT_FOUND":
      return `flag "${flagKey}" is not in the Detour document`;
    case "MALFORMED_FLAG":
      return `flag "${flagKey}" is malformed (a variation index out of range, a prerequisite cycle or an invalid attribute reference)`;
    case "USER_NOT_SPECIFIED":
      return "the context is not a valid LaunchDarkly context (an invalid kind, or a part without a key)";
    case "STORE_UNAVAILABLE":
      return "the Detour store has not loaded a document yet";
  }
}
