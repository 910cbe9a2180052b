/** What a usage source reports: the images something runs or will run (docs/design.md, "In-use protection"). */

/** One image reference found in one object (a pod, a service's task definition, a function, a revision). */
export interface ImageUse {
  /** The reference as the object writes it (`ghcr.io/org/app:1.2`, `app@sha256:…`). */
  readonly reference: string;
  /** The digest the runtime resolved it to, where the object says (pod status, ECS task, Lambda). */
  readonly resolvedDigest?: string | null;
  /** Who uses it, for the report: `prod-cluster: shop/Deployment/web`, `ecs-prod: service prod/api`. */
  readonly user: string;
}

export type UsageSourceKind = 'kubernetes' | 'ecs' | 'lambda' | 'containerApps';

/** A read-only source of images in use. */
export interface UsageSource {
  readonly name: string;
  readonly kind: UsageSourceKind;
  /** Every image in use now; throws when the source cannot be read (auth, network, throttling). */
  read(signal: AbortSignal): Promise<ImageUse[]>;
  /** API calls made so far (the report shows what each source costs). */
  readonly calls: () => number;
}
