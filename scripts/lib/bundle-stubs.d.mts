export function lazySource(id: string): string;
