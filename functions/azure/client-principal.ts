/**
 * Who called the HTTP trigger, and may they (docs/azure.md, "Who may trigger a run"). With App
 * Service authentication on, the platform validates the Entra token, strips any client-sent
 * `x-ms-client-principal` and injects its own: base64 JSON `{ auth_typ, name_typ, role_typ,
 * claims: [{ typ, val }] }`. Only then is the header trusted, and Bicep sets
 * REGPRUNE_ENTRA_REQUIRED_ROLE exactly then; without it the header is never read.
 */
import { z } from 'zod';
import type { EntraCaller, RunCaller } from '../../lib/run/caller.js';

/** Names the app role a caller must carry; set by infra/azure/main.bicep together with authsettingsV2. */
export const ENTRA_ROLE_SETTING = 'REGPRUNE_ENTRA_REQUIRED_ROLE';
const PRINCIPAL_HEADER = 'x-ms-client-principal';

// Claim types as App Service passes them: Entra's short names, or the long WS-Federation URIs it
// maps some of them to.
const CLAIM = {
  objectId: ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'],
  tenantId: ['http://schemas.microsoft.com/identity/claims/tenantid', 'tid'],
  appId: ['appid', 'azp'],
  name: ['name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', 'upn'],
  role: ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'],
} as const;

const ClientPrincipalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })),
});

/** The request's caller, or why it may not run a prune: 401 (no identity) or 403 (no role). */
export type CallerCheck =
  | { readonly allowed: true; readonly caller: RunCaller }
  | { readonly allowed: false; readonly status: 401 | 403; readonly error: string; readonly caller?: EntraCaller };

/** The part of a request's headers this reads (the Fetch `Headers` of an @azure/functions HttpRequest). */
export interface HeaderSource {
  get(name: string): string | null;
}

/** The Entra identity in an `x-ms-client-principal` value; undefined when it is not one. */
export function parseClientPrincipal(header: string): EntraCaller | undefined {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = ClientPrincipalSchema.safeParse(decoded);
  if (!parsed.success) return undefined;
  const { claims, name_typ: nameType, role_typ: roleType } = parsed.data;
  const first = (types: readonly string[]) => claims.find((claim) => types.includes(claim.typ))?.val;
  const roleTypes: readonly string[] = roleType ? [roleType, ...CLAIM.role] : CLAIM.role;
  const name = first(nameType ? [nameType, ...CLAIM.name] : CLAIM.name);
  const objectId = first(CLAIM.objectId);
  const appId = first(CLAIM.appId);
  const tenantId = first(CLAIM.tenantId);
  return {
    kind: 'entra',
    ...(name !== undefined ? { name } : {}),
    ...(objectId !== undefined ? { objectId } : {}),
    ...(appId !== undefined ? { appId } : {}),
    ...(tenantId !== undefined ? { tenantId } : {}),
    roles: [...new Set(claims.filter((claim) => roleTypes.includes(claim.typ)).map((claim) => claim.val))],
  };
}

/**
 * Checks the caller of an HTTP run against the app setting: no required role set = the function key
 * alone guards the trigger and the header is ignored (a client could have written it).
 */
export function checkAzureCaller(headers: HeaderSource, env: NodeJS.ProcessEnv): CallerCheck {
  const role = env[ENTRA_ROLE_SETTING]?.trim();
  if (!role) return { allowed: true, caller: { kind: 'function-key' } };
  const header = headers.get(PRINCIPAL_HEADER);
  const caller = header ? parseClientPrincipal(header) : undefined;
  if (!caller) {
    return {
      allowed: false,
      status: 401,
      error:
        `no Microsoft Entra identity on the request (${PRINCIPAL_HEADER} ${header ? 'unreadable' : 'absent'}) ` +
        `although ${ENTRA_ROLE_SETTING} is set: turn App Service authentication on (deploy with entraClientId) or ` +
        `clear ${ENTRA_ROLE_SETTING}, and call with an Entra access token for the app`,
    };
  }
  if (!caller.roles.includes(role)) {
    return {
      allowed: false,
      status: 403,
      caller,
      error:
        `the caller's token does not carry the app role "${role}" in its roles claim; assign that role of the ` +
        'regprune app registration to the user or service principal (docs/azure.md, "Who may trigger a run")',
    };
  }
  return { allowed: true, caller };
}
