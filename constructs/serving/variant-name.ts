/**
 * The name of the one production variant of every endpoint `SageMakerEndpoint` creates: blue/green updates
 * need the same name in the old and the new configuration. CloudWatch publishes the endpoint's metrics under it
 * (dimension `VariantName`), so the alarms and the dashboard watch it by default. Kept apart from the endpoint's
 * module so that monitoring constructs can name it without loading the SageMaker bindings.
 */
export const VARIANT_NAME = "primary";
