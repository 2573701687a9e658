import { z } from 'zod';
import type { RunningStore, StoreEndpoint, StoreNode, StoreNodePlan } from './store.js';

/**
 * Which node of the store a phase acts on: one by id (`node: node-2`), the first holding a role
 * (`role: replica`), or, when neither is given, the primary (what a one-node store has, and
 * what kill-store always killed). Roles are read when the phase runs: after a failover the
 * primary is whichever node holds the role then.
 */
export interface NodeChoice {
  node?: string;
  role?: string;
}

/** The scenario fields of a phase that acts on a store node; spread into its options schema. */
export const NODE_CHOICE_FIELDS = {
  node: z.string().min(1).optional(),
  role: z.string().min(1).optional(),
};

/** For a phase's schema `.refine`: a node names its role already, so both would be two answers to one question. */
export const ONE_CHOICE = [
  (options: NodeChoice) => options.node === undefined || options.role === undefined,
  { message: 'give node or role, not both' },
] as const;

/** What the choice is, for messages: `node node-2`, `role replica`, `the primary` by default. */
export function describeChoice(choice: NodeChoice): string {
  if (choice.node !== undefined) return `node ${choice.node}`;
  return choice.role !== undefined ? `role ${choice.role}` : 'the primary (the default)';
}

/** The node chosen among `nodes`, or one line saying there is none and naming the choices. */
export function chooseNode<Node extends StoreNodePlan>(storeName: string, nodes: readonly Node[], choice: NodeChoice): Node | string {
  const byId = (id: string) => nodes.find((node) => node.id === id);
  const byRole = (role: string) => nodes.find((node) => node.role === role);
  const found = choice.node !== undefined ? byId(choice.node) : byRole(choice.role ?? 'primary');
  if (found) return found;
  if (choice.node !== undefined) return `${storeName} has no node ${choice.node}; its nodes: ${nodes.map((node) => `${node.id} (${node.role})`).join(', ')}`;
  const roles = [...new Set(nodes.map((node) => node.role))];
  return `${storeName} has no ${choice.role ?? 'primary'} node${choice.role === undefined ? ' (the default)' : ''}; give role: ${roles.join(' or role: ')}, or node: ${nodes.map((node) => node.id).join(' or node: ')}`;
}

/** The choice in a phase's parsed options (kill-store's, store-fault's): their node and role fields. */
export function choiceIn(options: unknown): NodeChoice {
  const fields = (options ?? {}) as Record<string, unknown>;
  return {
    ...(typeof fields.node === 'string' ? { node: fields.node } : {}),
    ...(typeof fields.role === 'string' ? { role: fields.role } : {}),
  };
}

/** What of a scenario the check at load needs: its phases that act on the store, and their options. */
interface ScenarioLike {
  name: string;
  phases: readonly { name: string; unit: { kind: string; needsStore?: boolean; needsStoreProxy?: boolean }; storeNode(): NodeChoice | undefined }[];
}

/**
 * Problems with a scenario's node choices on one store, before anything starts: a node or role
 * the store does not have, or fault-proxy phases in front of different nodes (a scenario gets
 * one fault proxy). One line each, naming the scenario, the phase and the choices.
 */
export function nodeChoiceProblems(scenario: ScenarioLike, store: { name: string; label: string; nodes: readonly StoreNodePlan[] }): string[] {
  const problems: string[] = [];
  const proxied = new Map<string, string>();
  for (const phase of scenario.phases) {
    if (!phase.unit.needsStore) continue;
    const chosen = chooseNode(store.name, store.nodes, phase.storeNode() ?? {});
    if (typeof chosen === 'string') {
      problems.push(`scenario ${scenario.name}, phase "${phase.name}" (${phase.unit.kind}) on ${store.label}: ${chosen}`);
    } else if (phase.unit.needsStoreProxy) {
      proxied.set(chosen.id, phase.name);
    }
  }
  if (proxied.size > 1) {
    const which = [...proxied].map(([node, phase]) => `"${phase}" on ${node}`).join(', ');
    problems.push(`scenario ${scenario.name} on ${store.label}: its fault-proxy phases choose different nodes (${which}); a scenario has one fault proxy, in front of one node`);
  }
  return problems;
}

/** The node the scenario's fault-proxy phases act on (one, checked at load), if any phase needs a proxy. */
export function proxiedNode(scenario: ScenarioLike, store: RunningStore): StoreNode | undefined {
  const phase = scenario.phases.find((candidate) => candidate.unit.needsStoreProxy);
  if (!phase) return undefined;
  const chosen = chooseNode(store.name, store.nodes, phase.storeNode() ?? {});
  if (typeof chosen === 'string') throw new Error(chosen);
  return chosen;
}

/**
 * The store as replicas see it with a fault proxy in front of one node: the app's endpoint goes
 * through the proxy when it reaches that node alone. An endpoint that spreads over several
 * nodes (a replica set's URL) cannot be pointed at one proxy, and a node the endpoint does not
 * reach gains nothing from one: both are said, not papered over.
 */
export function throughProxy(store: RunningStore, nodeId: string, proxyUrl: string): RunningStore {
  const app: StoreEndpoint | undefined = store.endpoints.app;
  if (!app) throw new Error(`hactl does not know where the apps reach ${store.name}, so it cannot put a fault proxy on their way`);
  if (app.nodes.length !== 1 || app.nodes[0] !== nodeId) {
    throw new Error(`the apps reach ${store.name} through ${app.nodes.join(', ')}, not through ${nodeId} alone: a fault proxy in front of ${nodeId} would not stand between them`);
  }
  return { ...store, endpoints: { ...store.endpoints, app: { url: proxyUrl, nodes: app.nodes } } };
}

/** How a node is named on fault records: the store's name, and the node's id when there are others to tell it from. */
export function nodeTarget(store: Pick<RunningStore, 'name' | 'nodes'>, node: Pick<StoreNode, 'id'>): string {
  return store.nodes.length === 1 ? store.name : `${store.name} ${node.id}`;
}
