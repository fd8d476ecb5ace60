//! GET /v1/peers/{peer}.
