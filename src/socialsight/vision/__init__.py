"""Image analyses with local ONNX models: runtime (sessions, checked files) and one module each."""
