// Pulumi components (package entry './pulumi').
export {};
