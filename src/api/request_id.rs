//! A request id per HTTP request (X-Request-Id accepted or generated, echoed back).
