// Public API of the framework-neutral model (package entry '.').
export {};
