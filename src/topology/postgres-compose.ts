import { slotName } from '../stores/postgres-replication.js';
import type { DockerStoreRecipe, StoreNodePlan, StoreOptions } from '../stores/store.js';
import type { ContainerPlan } from './containers.js';
import { REPLICATION_HBA, replicatedPostgresContainers } from './postgres-containers.js';

/**
 * postgres:standby and postgres:sync-standby in a compose file: the containers of
 * replicatedPostgresContainers, each node's command wrapped for the official image (composeNodeCommand),
 * in the order Compose starts them: nodes after the link they follow, links after their node, the
 * endpoint after the primary. Nothing fails over there: that is hactl's job at run time, and the
 * file says so.
 */
export function composePostgresStore(recipe: DockerStoreRecipe, image: string, appImage: string, options: StoreOptions, nodes: readonly StoreNodePlan[]) {
  const topology = replicatedPostgresContainers(recipe, image, appImage, { network: 'bridge' }, options, nodes);
  const [primary, ...standbys] = topology.nodes;
  if (!primary || primary.role !== 'primary') throw new Error('a replicated postgres plan starts with its primary');
  const services: Array<{ plan: ContainerPlan; dependsOn: string[] }> = [
    { plan: { ...primary.plan, command: composeNodeCommand(primary.plan, undefined) }, dependsOn: [] },
    ...standbys.map((node) => ({ plan: { ...node.plan, command: composeNodeCommand(node.plan, { link: primary.link.reachAt, nodeId: node.id }) }, dependsOn: [primary.link.plan.service] })),
    ...topology.nodes.map((node) => ({ plan: node.link.plan, dependsOn: [node.plan.service] })),
    { plan: topology.endpoint.plan, dependsOn: [primary.plan.service] },
  ];
  const sync = options.replication?.mode === 'sync';
  const notes = [
    `The store is a primary (${primary.plan.service}) and ${standbys.length} standby${standbys.length === 1 ? '' : 's'}. A standby whose data directory is empty copies the`,
    `primary with pg_basebackup through the primary's replication link (${primary.link.plan.service}), then streams from it ${sync ? 'synchronously' : 'asynchronously'}${sync ? ',' : '.'}`,
    ...(sync ? ['as RDS Multi-AZ does (synchronous_standby_names *: no commit is acknowledged before a standby has it).'] : []),
    `Apps connect to the primary endpoint ${topology.endpoint.plan.service}. The official postgres image's entrypoint, psql and pg_basebackup do the work.`,
    "Nothing fails over here by itself: the failover is hactl's (`hactl run --runtime docker` runs it in hactl). A",
    `stopped ${primary.plan.service} stays stopped, no standby is promoted and the endpoint keeps pointing at it; the apps`,
    'fail until it is started again (its data is kept: fsync on).',
  ];
  return { services, endpoint: topology.endpoint.plan.service, url: topology.url, notes };
}

const HBA_FILE = '/etc/hactl-pg_hba.conf';
/** How long a compose standby keeps trying its first base backup (the primary initialises first). */
const COMPOSE_BACKUP_TRIES = 120;

/**
 * A node's command in a compose file, for the official image (its docker-entrypoint.sh, psql and
 * pg_basebackup): write REPLICATION_HBA where the server reads it, and for a standby with an empty
 * data directory take a base backup of the primary through its link first (a slot of its own,
 * --write-recovery-conf: standby.signal and primary_conninfo), retried a bounded number of times
 * while the primary starts. `$` is doubled: Compose would interpolate it.
 */
function composeNodeCommand(plan: ContainerPlan, follows: { link: { host: string; port: number }; nodeId: string } | undefined): string[] {
  const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
  const lines = [`printf '%s\\n' ${REPLICATION_HBA.map(quote).join(' ')} > ${HBA_FILE}`];
  if (follows) {
    const slot = slotName(follows.nodeId);
    const connect = `--host=${follows.link.host} --port=${follows.link.port} --username=hactl`;
    lines.push(
      'if [ ! -s "$PGDATA/PG_VERSION" ]; then',
      '  tries=0',
      `  until psql ${connect} --dbname=postgres --quiet --command="SELECT pg_create_physical_replication_slot('${slot}', true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '${slot}')" && pg_basebackup ${connect} --pgdata="$PGDATA" --wal-method=stream --slot=${slot} --write-recovery-conf; do`,
      '    tries=$((tries + 1))',
      `    if [ "$tries" -ge ${COMPOSE_BACKUP_TRIES} ]; then echo "no base backup of the primary through ${follows.link.host}:${follows.link.port} after ${COMPOSE_BACKUP_TRIES} tries" >&2; exit 1; fi`,
      '    rm -rf "$PGDATA"/* && sleep 1',
      '  done',
      'fi',
    );
  }
  lines.push(`exec docker-entrypoint.sh ${[...plan.command, '-c', `hba_file=${HBA_FILE}`].map(quote).join(' ')}`);
  return ['sh', '-c', lines.join('\n')];
}
