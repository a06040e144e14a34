export { DetourProvider, type DetourProviderOptions, type DetourLike } from "./provider.js";
export { toDetourContext, ANONYMOUS_KEY, type ContextTranslation } from "./context.js";
