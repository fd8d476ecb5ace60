//! The wire: transports, MTProto 2.0 crypto, per-connection sessions, the TCP server.
