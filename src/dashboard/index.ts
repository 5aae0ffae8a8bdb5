export { type Dashboard, type DashboardOptions, startDashboard } from "./server.js";
