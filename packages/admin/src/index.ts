export { createAdmin, type Admin, type AdminAuth, type AdminDetour, type AdminOptions, type AdminStatus } from "./admin.js";
export type { AdminEventStream, AdminRequest, AdminResponse, HeaderValue } from "./http.js";
export { bearerToken } from "./auth.js";
export { DetourMetrics, detourMetrics, type DetourMetricsOptions, type PromRegistry } from "./metrics.js";
export type { MigrationsSource, MigrationOpSeen } from "./migrations.js";
export { sendNodeResponse } from "./node.js";
