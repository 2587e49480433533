/** The AWS wiring of the steps (lambda/adapters/aws-deps.ts), loaded fresh per test as a new Lambda container. */
describe('aws(): the ports wired to AWS', () => {
  beforeEach(() => {
    process.env.AWS_REGION = 'eu-west-1';
    process.env.BLUEGREEN_SETTINGS = JSON.stringify({
      workflow: { appName: 'shop' },
      aws: { testTokenSecretArn: 'arn:secret:token' },
    });
  });

  test('the test token is read once per container, and a failed read is tried again next time', async () => {
    await jest.isolateModulesAsync(async () => {
      // The same module registry as the code under test, so the mock is on the client class it uses.
      const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      const { mockClient } = await import('aws-sdk-client-mock');
      const secrets = mockClient(SecretsManagerClient);
      secrets
        .on(GetSecretValueCommand, { SecretId: 'arn:secret:token' })
        .rejectsOnce(new Error('throttled'))
        .resolves({ SecretString: 'the-token' });
      const { aws } = await import('../../../lambda/adapters/aws-deps');
      const { deps } = aws();
      await expect(deps.testToken()).rejects.toThrow('throttled');
      await expect(deps.testToken()).resolves.toBe('the-token');
      await expect(deps.testToken()).resolves.toBe('the-token');
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });
  });

  test('after a rotation, `fresh` reads the secret again, and the fresh value is the one kept', async () => {
    await jest.isolateModulesAsync(async () => {
      const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      const { mockClient } = await import('aws-sdk-client-mock');
      const secrets = mockClient(SecretsManagerClient);
      secrets
        .on(GetSecretValueCommand, { SecretId: 'arn:secret:token' })
        .resolvesOnce({ SecretString: 'before-rotation' })
        .resolves({ SecretString: 'after-rotation' });
      const { aws } = await import('../../../lambda/adapters/aws-deps');
      const { deps } = aws();
      await expect(deps.testToken()).resolves.toBe('before-rotation');
      await expect(deps.testToken()).resolves.toBe('before-rotation'); // cached: the secret rotates meanwhile
      await expect(deps.testToken({ fresh: true })).resolves.toBe('after-rotation');
      await expect(deps.testToken()).resolves.toBe('after-rotation');
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });
  });

  test("the fleet has auto scaling when the workflow's settings have it, and none otherwise", async () => {
    const fleet = { platform: 'ecs', cluster: 'shop', services: { blue: 'shop-blue', green: 'shop-green' } };
    for (const scaling of [{ minCount: 2, maxCount: 20 }, undefined]) {
      process.env.BLUEGREEN_SETTINGS = JSON.stringify({
        workflow: { appName: 'shop', ...(scaling ? { scaling } : {}) },
        aws: { fleet },
      });
      await jest.isolateModulesAsync(async () => {
        const { ApplicationAutoScalingClient, RegisterScalableTargetCommand } =
          await import('@aws-sdk/client-application-auto-scaling');
        const { mockClient } = await import('aws-sdk-client-mock');
        const autoscaling = mockClient(ApplicationAutoScalingClient);
        autoscaling.on(RegisterScalableTargetCommand).resolves({});
        const { aws } = await import('../../../lambda/adapters/aws-deps');
        const set = aws().deps.fleet.setCapacity('green', { min: 2, max: 20, scaleInSuspended: true });
        if (scaling) {
          await set;
          expect(autoscaling.commandCalls(RegisterScalableTargetCommand)[0].args[0].input).toMatchObject({
            ResourceId: 'service/shop/shop-green',
            MinCapacity: 2,
            MaxCapacity: 20,
          });
        } else {
          await expect(set).rejects.toMatchObject({ name: 'ScalingNotConfigured' });
          expect(autoscaling.calls()).toHaveLength(0);
        }
      });
    }
  });

  test('the notifier publishes Chatbot custom notifications when the settings say chatNotifications (notifications.slack), the outcome JSON otherwise', async () => {
    const outcome = {
      app: 'shop',
      release: 'release-1',
      status: 'SUCCEEDED' as const,
      liveColor: 'green' as const,
    };
    for (const chatNotifications of [true, undefined]) {
      process.env.BLUEGREEN_SETTINGS = JSON.stringify({
        workflow: { appName: 'shop' },
        aws: { topicArn: 'arn:topic', ...(chatNotifications ? { chatNotifications } : {}) },
      });
      await jest.isolateModulesAsync(async () => {
        const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
        const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
        const { mockClient } = await import('aws-sdk-client-mock');
        const sns = mockClient(SNSClient);
        sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
        mockClient(EventBridgeClient).on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
        const { aws } = await import('../../../lambda/adapters/aws-deps');
        await aws().deps.notifier.publish(outcome);
        const message = sns.commandCalls(PublishCommand)[0].args[0].input.Message!;
        if (chatNotifications) {
          const n = JSON.parse(message) as {
            source: string;
            metadata: { additionalContext: { outcome: string } };
          };
          expect(n.source).toBe('custom');
          expect(JSON.parse(n.metadata.additionalContext.outcome)).toEqual(outcome);
        } else {
          expect(message).toBe(JSON.stringify(outcome, null, 2));
        }
      });
    }
  });

  test('a missing BLUEGREEN_SETTINGS is a named error', async () => {
    delete process.env.BLUEGREEN_SETTINGS;
    await jest.isolateModulesAsync(async () => {
      const { aws } = await import('../../../lambda/adapters/aws-deps');
      expect(() => aws()).toThrow(expect.objectContaining({ name: 'ConfigurationMissing' }));
    });
  });
});
