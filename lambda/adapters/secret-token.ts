import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';

/** Reads the test-traffic token (the value of the secret header that opens the test listener). */
export async function readSecret(config: SecretsManagerClientConfig, secretArn: string): Promise<string> {
  const out = await new SecretsManagerClient(config).send(new GetSecretValueCommand({ SecretId: secretArn }));
  return out.SecretString ?? '';
}
