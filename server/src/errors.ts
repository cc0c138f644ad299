// What a service throws when it refuses a request. Services speak no HTTP: problem.ts maps each
// of these (and the store's, the OAuth module's and the runtime's own errors) to problem+json.
import type { FieldError } from 'plugboard/protocol';

/** Something the caller named does not exist, or is another customer's. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(readonly what: string) {
    super(`${what} was not found`);
  }
}

/** The caller may not do this (e.g. an origin not allowed to start an OAuth flow). */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

/** The customer's plan does not include this integration (entitlements.ts). */
export class NotEntitledError extends ForbiddenError {
  override name = 'NotEntitledError';
  constructor(
    readonly integrationKey: string,
    integrationName: string,
  ) {
    super(`${integrationName} is not included in this customer's plan`);
  }
}

/** The request does not fit the resource's state (e.g. a retired integration, an active instance). `details` go into the answer. */
export class ConflictError extends Error {
  override name = 'ConflictError';
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Values the domain refuses, each error naming its field. */
export class InvalidFieldsError extends Error {
  override name = 'InvalidFieldsError';
  constructor(
    readonly errors: FieldError[],
    message = 'Some fields are invalid; see errors.',
  ) {
    super(message);
  }
}

/** Activation refused: each blocker names what is still missing. */
export class NotReadyError extends Error {
  override name = 'NotReadyError';
  constructor(readonly blockers: FieldError[]) {
    super('The instance cannot be activated yet; fix each item in errors.');
  }
}

/** The vendor's code run during a request failed or did not answer in time (or the service it calls did). */
export class VendorCodeError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** A data source failed or did not answer in time. */
export class DataSourceError extends VendorCodeError {
  override name = 'DataSourceError';
}

/** A connection's `test` threw or did not answer in time: the credentials could not be checked (nothing was saved). */
export class ConnectionTestError extends VendorCodeError {
  override name = 'ConnectionTestError';
}
