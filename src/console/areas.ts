import type { ConsoleArea } from './context.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { registerQuarantineRoutes } from './quarantine-routes.js';
import { registerQuarantineActionRoutes } from './quarantine-action-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerCrosswalkRoutes } from './crosswalk-routes.js';
import { registerQaRoutes } from './qa-routes.js';
import { registerQaSampleRoutes } from './qa-sample-routes.js';

/**
 * The console's areas, each registering its routes. A new area (quarantine review, QA, audit)
 * is one module exporting a `ConsoleArea`, added here; the server puts every route behind the
 * login gate and every POST behind the CSRF check.
 */
export const CONSOLE_AREAS: readonly ConsoleArea[] = [registerAuthRoutes, registerDashboardRoutes, registerQuarantineRoutes, registerQuarantineActionRoutes, registerQaRoutes, registerQaSampleRoutes, registerCrosswalkRoutes, registerAuditRoutes];
