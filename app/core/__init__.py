"""What every feature and panel shares: models, configuration, settings, keys, audit, the access policy, time."""
