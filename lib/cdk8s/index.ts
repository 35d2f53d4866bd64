// cdk8s constructs (package entry './cdk8s').
export {};
