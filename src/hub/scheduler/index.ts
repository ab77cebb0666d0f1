export { type BindRequest, bindingHandler, type PodBinder, StoreBinder } from "./binding.js";
export { SCHEDULER_NAME, Scheduler, type SchedulerDeps } from "./scheduler.js";
