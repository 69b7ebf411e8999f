/** A small least-recently-used cache: a Map keeps insertion order, so the first key is the oldest. */
export class RecordCache<V> {
  private readonly map = new Map<number, V>();

  constructor(private readonly capacity: number) {}

  get(key: number): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  has(key: number): boolean {
    return this.map.has(key);
  }

  set(key: number, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: number): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
