/**
 * A hand-written data source, the way a user ports one from Go: the "real"
 * piece the fakes are compared against.
 */
import {
  ErrDataNotFound,
  ErrFailedToUnmarshal,
  ErrKeyNotSupported,
  type WritableDataSource,
  type WriteData,
  wrapError,
} from "tracee-ds";

// A type alias, not an interface: `DataSource`'s default Result is a Record,
// which an interface (having no index signature) does not satisfy.
export type Ioc = {
  readonly severity: number;
};

/** IOC domain → severity. Keys are strings; a value is `{ severity: number }`. */
export class IocDataSource implements WritableDataSource<unknown, Ioc> {
  private readonly iocs = new Map<string, Ioc>();

  constructor(initial: Record<string, Ioc> = {}) {
    for (const [k, v] of Object.entries(initial)) this.iocs.set(k, v);
  }

  get(key: unknown): Ioc {
    if (typeof key !== "string") throw ErrKeyNotSupported;
    const ioc = this.iocs.get(key);
    if (ioc === undefined) throw wrapError(ErrDataNotFound, `ioc ${key}`);
    return ioc;
  }

  version(): number {
    return 1;
  }

  keys(): string[] {
    return ["string"];
  }

  schema(): string {
    return JSON.stringify({ severity: "int" });
  }

  namespace(): string {
    return "test";
  }

  id(): string {
    return "iocs";
  }

  write(data: WriteData): void {
    const staged: [string, Ioc][] = [];
    for (const [key, value] of data) {
      if (typeof key !== "string") throw ErrKeyNotSupported;
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw ErrFailedToUnmarshal;
      const severity = (value as Record<string, unknown>)["severity"];
      if (typeof severity !== "number") throw wrapError(ErrFailedToUnmarshal, `ioc ${key}: severity`);
      staged.push([key, { severity }]);
    }
    for (const [key, ioc] of staged) this.iocs.set(key, ioc);
  }

  values(): string[] {
    return ["object"];
  }
}

export { thrown } from "../support/errors.js";
