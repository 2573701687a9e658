import type { ContainerPlan } from '../../topology/containers.js';
import { containerName, createContainer, type ContainerHandle, type ContainerPlacement } from './containers.js';
import type { Engine } from './engine.js';

/**
 * A run's containers, with one owner: every container is created here and tracked from the
 * moment it exists, so that whatever start path made it, teardown (removeAll) removes it.
 */
export class ContainerSet {
  private readonly handles = new Set<ContainerHandle>();
  /** Removals under way that no one waits for yet, by container name: its next use and removeAll() wait for them. */
  private readonly releasing = new Map<string, Promise<void>>();

  constructor(
    private readonly engine: Engine,
    private readonly where: Omit<ContainerPlacement, 'publish'>,
  ) {}

  /** Creates a container from `plan`, its ports published on `publish` (a remote engine picks its own). */
  async run(plan: ContainerPlan, publish: number[] | undefined, beforeStart?: ContainerPlacement['beforeStart']): Promise<ContainerHandle> {
    // A container of the same name still going (the previous row's): its name and ports must be free first.
    await this.releasing.get(containerName(this.where.runId, plan.service));
    const handle = await createContainer(this.engine, plan, { ...this.where, publish: this.engine.remote ? undefined : publish, ...(beforeStart ? { beforeStart } : {}) });
    this.handles.add(handle);
    return handle;
  }

  /**
   * Creates a container and waits until `ready`; one that does not become ready is removed before
   * the error goes on (a second removal, when `ready` was waitForContainer, finds it gone: a no-op).
   */
  async withContainer(plan: ContainerPlan, publish: number[] | undefined, ready: (handle: ContainerHandle) => Promise<void>, beforeStart?: ContainerPlacement['beforeStart']): Promise<ContainerHandle> {
    const handle = await this.run(plan, publish, beforeStart);
    try {
      await ready(handle);
    } catch (error) {
      await this.remove(handle);
      throw error;
    }
    return handle;
  }

  async remove(handle: ContainerHandle): Promise<void> {
    this.handles.delete(handle);
    await handle.remove();
  }

  /**
   * Starts removing containers and returns without waiting for the engine to finish. A container
   * SIGKILLed after a peer vanished from its network (the balancer, after kill-node) is dead in
   * a tenth of a second, but the engine takes about 4 s more to release its network before it
   * counts as stopped or removed; nothing of the row needs to wait for that. A later container
   * of the same name waits for it, and so does removeAll(): nothing outlives the run.
   */
  release(handles: readonly ContainerHandle[]): void {
    for (const handle of handles) {
      this.handles.delete(handle);
      const removal = handle.remove().then(() => {
        if (this.releasing.get(handle.name) === removal) this.releasing.delete(handle.name);
      });
      this.releasing.set(handle.name, removal);
    }
  }

  async removeAll(): Promise<void> {
    await Promise.all([...[...this.handles].map((handle) => this.remove(handle)), ...this.releasing.values()]);
  }
}
