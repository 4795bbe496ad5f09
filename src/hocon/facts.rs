//! What the renderer reads from an EMQX config: dashboard ports, listeners, gateway listeners.
