import type { ContainerPlan } from '../../topology/containers.js';
import { createContainer, type ContainerHandle, type ContainerPlacement } from './containers.js';
import type { Engine } from './engine.js';

/**
 * A run's containers, with one owner: every container is created here and tracked from the
 * moment it exists, so that whatever start path made it, teardown (removeAll) removes it.
 */
export class ContainerSet {
  private readonly handles = new Set<ContainerHandle>();

  constructor(
    private readonly engine: Engine,
    private readonly where: Omit<ContainerPlacement, 'publish'>,
  ) {}

  /** Creates a container from `plan`, its ports published on `publish` (a remote engine picks its own). */
  async run(plan: ContainerPlan, publish: number[] | undefined, beforeStart?: ContainerPlacement['beforeStart']): Promise<ContainerHandle> {
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

  async removeAll(): Promise<void> {
    await Promise.all([...this.handles].map((handle) => this.remove(handle)));
  }
}
