/**
 * `@detour/core/adapter`: what a framework adapter is made of. An adapter
 * supplies a {@link RequestAccessor} and a {@link FrameworkBinding};
 * {@link decisionHandler} does the rest (wait for the store, decide, attach,
 * answer).
 */
export { headerOf, pathOf, type DetourRequest, type FeatureNames, type RequestAccessor } from "../request.js";
export { decisionHandler, isDetour, toDetour, type DetourAdapter, type FrameworkBinding } from "./handler.js";
