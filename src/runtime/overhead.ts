import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { Cluster } from './runtime.js';
import { httpOrigin, type BalancerTarget } from '../balancer/settings.js';

/**
 * What the balancer adds to a request's latency, measured at the start of a run so the report
 * can state it beside the latencies it shows: the same cheap request (the app's health path,
 * which touches no session) sent to the replicas directly and through the balancer, in
 * alternation so that drift on a busy machine hits both paths alike, at low concurrency so that
 * neither path queues. The difference of the two paths' percentiles is the balancer's share.
 */
export interface BalancerOverhead {
  /** Through the balancer minus direct, in milliseconds; 0 when noise made direct the slower. */
  p50: number;
  /**
   * The same for p99. Kept for readers of the JSON, but stated nowhere: of 200 requests the p99
   * is the second or third slowest, one scheduler hiccup, and the difference of two such figures
   * is noise (it came out below p50, as if the balancer made the tail faster).
   */
  p99: number;
  /** Requests measured on each path. */
  samples: number;
  /**
   * The p50 difference of each round of samples/rounds requests each way, signed: their spread
   * says how much of `p50` the samples support. A round below 0 means noise is as large as the
   * difference itself. Absent in reports written before it.
   */
  p50ByRound?: number[];
  /** How long the measurement took, warm-up included: part of the first row's wall time, in no timing of its own. */
  probeMs?: number;
}

export interface OverheadOptions {
  /** Requests measured on each path (after the warm-up), over all rounds. */
  samples?: number;
  /** Rounds the samples are split into. */
  rounds?: number;
  /** Requests in flight on each path at once. */
  concurrency?: number;
  /** Bounds every request; past it the measurement is given up (the run goes on without the figure). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Enough for a steady median, and quick: some 0.2 s on loopback. */
export const OVERHEAD_SAMPLES = 200;
/** The samples are taken in rounds, so that the report can state the p50's spread, not only the figure. */
export const OVERHEAD_ROUNDS = 5;
const OVERHEAD_CONCURRENCY = 2;
/** Connections opened and code paths warmed on both paths before anything counts. */
const WARM_UP_REQUESTS = 40;
const REQUEST_TIMEOUT_MS = 2_000;
/**
 * The whole measurement's bound: an app whose health path is slow (one that checks its
 * database, say) would otherwise hold every row up for 480 × its latency.
 */
const BUDGET_MS = 5_000;

/**
 * Measures the balancer at `balancerUrl` against its targets (round robin over them on the
 * direct path too, as the balancer spreads its requests). Undefined without targets to reach
 * directly (a balancer in a container, an external deployment).
 */
export async function measureBalancerOverhead(balancerUrl: string, targets: readonly BalancerTarget[], path: string, options: OverheadOptions = {}): Promise<BalancerOverhead | undefined> {
  if (targets.length === 0) return undefined;
  const samples = options.samples ?? OVERHEAD_SAMPLES;
  const rounds = Math.max(1, Math.min(options.rounds ?? OVERHEAD_ROUNDS, samples));
  const concurrency = options.concurrency ?? OVERHEAD_CONCURRENCY;
  const timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const balancer = new Pool(balancerUrl, { connections: concurrency });
  const direct = targets.map((target) => new Pool(httpOrigin(target.host, target.port), { connections: concurrency }));
  let next = 0;
  // Each request alternates the path; direct requests take the targets in turn. Latencies are kept per round.
  const paths: Array<{ pool: () => Pool; latencies: number[][] }> = [
    { pool: () => balancer, latencies: [] },
    { pool: () => direct[next++ % direct.length]!, latencies: [] },
  ];
  const budget = AbortSignal.timeout(BUDGET_MS);
  const send = async (pool: Pool): Promise<number> => {
    const startedAt = performance.now();
    const signal = AbortSignal.any([...(options.signal ? [options.signal] : []), budget, AbortSignal.timeout(timeoutMs)]);
    const response = await pool.request({ path, method: 'GET', signal });
    await response.body.dump();
    if (response.statusCode >= 500) throw new Error(`${path} answered ${response.statusCode}`);
    return performance.now() - startedAt;
  };
  try {
    // Lanes start on different paths, so that each path always has the other's load beside it.
    const lane = async (index: number, requests: number, round: number | undefined) => {
      for (let i = 0; i < requests; i++) {
        const path = paths[(i + index) % 2]!;
        const latency = await send(path.pool());
        if (round !== undefined) (path.latencies[round] ??= []).push(latency);
      }
    };
    const perLane = (total: number) => Math.ceil((2 * total) / concurrency);
    await Promise.all(Array.from({ length: concurrency }, (_, index) => lane(index, perLane(WARM_UP_REQUESTS), undefined)));
    for (let round = 0; round < rounds; round++) {
      await Promise.all(Array.from({ length: concurrency }, (_, index) => lane(index, perLane(samples / rounds), round)));
    }
  } finally {
    await Promise.all([balancer, ...direct].map((pool) => pool.destroy()));
  }
  const sorted = (latencies: number[]) => [...latencies].sort((a, b) => a - b);
  const [through, straight] = paths.map((path) => sorted(path.latencies.flat()));
  const p50ByRound = Array.from({ length: rounds }, (_, i) => round(percentile(sorted(paths[0]!.latencies[i] ?? []), 50) - percentile(sorted(paths[1]!.latencies[i] ?? []), 50)));
  return {
    // A balancer cannot make a request faster: a negative difference is noise, and reads as none.
    p50: round(Math.max(0, percentile(through!, 50) - percentile(straight!, 50))),
    p99: round(Math.max(0, percentile(through!, 99) - percentile(straight!, 99))),
    samples: Math.min(through!.length, straight!.length),
    p50ByRound,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Microseconds are all a loopback hop can tell apart. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * A run's measurement: taken once, on the first cluster that starts (its replicas are those of
 * every later cluster too, in kind), and stated in the report's settings. Disabled for a
 * deployment hactl did not build, which has no direct path to compare with.
 */
export class RunOverhead {
  private measured = false;
  private result: BalancerOverhead | undefined;

  constructor(private readonly enabled: boolean) {}

  /** Measures unless already done; a failure leaves the report without the figure rather than failing the run. */
  async measure(cluster: Pick<Cluster, 'balancerUrl' | 'directTargets'>, path: string, signal?: AbortSignal): Promise<void> {
    if (!this.enabled || this.measured) return;
    this.measured = true;
    const started = performance.now();
    const result = await measureBalancerOverhead(cluster.balancerUrl, cluster.directTargets ?? [], path, signal ? { signal } : {}).catch(() => undefined);
    this.result = result && { ...result, probeMs: Math.round(performance.now() - started) };
  }

  /** `{ overheadMs }` for the report's balancer settings, or nothing. */
  settings(): { overheadMs?: BalancerOverhead } {
    return this.result ? { overheadMs: this.result } : {};
  }
}
