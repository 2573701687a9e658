/** Whether something hactl needs (a store, a balancer, an executable) can be had here, and if not, what to do about it. */
export type Availability =
  | { available: true; detail: string }
  | { available: false; reason: string; fix: string };
