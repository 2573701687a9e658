import { didYouMean } from '../platform/did-you-mean.js';
import type { ReplicaField, StrategyDescriptor, StrategyVariant } from './descriptor.js';

/** A strategy with one of its variants chosen: what a row of the report is about. */
export interface StrategyChoice<Strategy extends StrategyDescriptor = StrategyDescriptor> {
  strategy: Strategy;
  variant: StrategyVariant;
  /** How the report names it: `redis`, `redis:aof-always`, `sticky:app_cookie`. */
  label: string;
}

/**
 * Every strategy hactl knows, in one place: what the CLI offers, config files accept, templates
 * fill, pricing files price and reports name is read from here, never from a list of its own.
 */
export interface StrategyRegistry<Strategy extends StrategyDescriptor = StrategyDescriptor> {
  /** In the order users see them (help, `all`, reports). */
  readonly descriptors: readonly Strategy[];
  readonly names: readonly Strategy['name'][];
  /** `name:variant` of every variant that has a name of its own, for help text. */
  readonly variantLabels: readonly string[];
  /** The `{field}`s the strategies add to replica templates, in registry order. */
  readonly replicaFields: readonly ReplicaField[];
  /** The instance keys a pricing file may price besides the app's, in registry order. */
  readonly pricedInstances: readonly string[];
  named(name: string): Strategy | undefined;
  /** `redis`, `redis:aof-always`; an unknown name or variant is a one-line problem naming the choices. */
  choose(text: string): StrategyChoice<Strategy> | string;
}

/** The registry of these descriptors; two strategies claiming one name or one field is a programming error. */
export function buildRegistry<Strategy extends StrategyDescriptor>(descriptors: readonly Strategy[]): StrategyRegistry<Strategy> {
  const names = descriptors.map((descriptor) => descriptor.name);
  const replicaFields = descriptors.flatMap((descriptor) => descriptor.replicaFields);
  repeated('strategy', names);
  repeated('replica template field', replicaFields.map((field) => field.name));
  for (const descriptor of descriptors) {
    if (descriptor.variants.length === 0) throw new Error(`strategy ${descriptor.name} declares no variant; its default is the first`);
    if (descriptor.faultTargets.includes('store') && !descriptor.store) throw new Error(`strategy ${descriptor.name} offers store faults but needs no store`);
  }
  const byName = new Map(descriptors.map((descriptor) => [descriptor.name as string, descriptor]));
  return {
    descriptors,
    names,
    variantLabels: descriptors.flatMap((descriptor) => namedVariants(descriptor).map((variant) => `${descriptor.name}:${variant.name}`)),
    replicaFields,
    pricedInstances: [...new Set(descriptors.flatMap((descriptor) => descriptor.pricing))],
    named: (name) => byName.get(name),
    choose: (text) => choose(byName, names, text),
  };
}

function repeated(what: string, names: readonly string[]): void {
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice !== undefined) throw new Error(`${what} "${twice}" is declared twice`);
}

/** The variants written `name:variant`: a strategy whose only variant is `default` has none. */
function namedVariants(strategy: StrategyDescriptor): readonly StrategyVariant[] {
  return strategy.variants.filter((variant) => variant.name !== 'default');
}

function choose<Strategy extends StrategyDescriptor>(byName: ReadonlyMap<string, Strategy>, names: readonly string[], text: string): StrategyChoice<Strategy> | string {
  const [name, variantName, ...extra] = text.split(':');
  const strategy = byName.get(name!);
  if (!strategy) return `unknown strategy "${name}"${didYouMean(name!, names)}; expected one or more of ${names.join(', ')}, or all`;
  const named = namedVariants(strategy);
  if (variantName === undefined) return { strategy, variant: strategy.variants[0]!, label: strategy.name };
  const variant = named.find((candidate) => candidate.name === variantName);
  if (!variant || extra.length > 0) {
    const labels = named.map((candidate) => `${name}:${candidate.name}`);
    // Compared without the strategy's name, which every label shares and would make any variant look near.
    const near = didYouMean(`${variantName}${extra.map((part) => `:${part}`).join('')}`, named.map((candidate) => candidate.name), (variant) => `${name}:${variant}`);
    return named.length === 0 ? `strategy "${name}" has no variants; got "${text}"` : `unknown variant "${text}"${near}; expected one of ${labels.join(', ')}`;
  }
  // The default variant keeps the plain name, so `redis` and `redis:none` are one row.
  return { strategy, variant, label: variant === strategy.variants[0] ? strategy.name : `${strategy.name}:${variant.name}` };
}

/** `--strategy`'s help: the names, `all`, and the variants, from the registry. */
export function strategyHelp(registry: StrategyRegistry): string {
  return `session strategies, comma-separated: ${registry.names.join(', ')}, or all; variants as name:variant (${registry.variantLabels.join(', ')})`;
}

/** How a row names its strategy and variant as data, so that no reader parses its label. */
export interface StrategyVariantRecord {
  /** The row label: `redis:aof-always`. */
  label: string;
  strategy: string;
  variant: string;
  /** The servers its store ran when more than one (a primary and its replicas): each is a priced instance. */
  storeNodes?: number;
}

export function variantRecord(choice: StrategyChoice): StrategyVariantRecord {
  return { label: choice.label, strategy: choice.strategy.name, variant: choice.variant.name };
}
