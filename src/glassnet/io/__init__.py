"""Files in and out: the model file (safetensors, checked on load), ONNX export, atomic writes."""
