//! Webhook subscriptions and delivery.
