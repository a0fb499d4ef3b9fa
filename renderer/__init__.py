"""videojob.renderer: a storyboard, a Markdown lecture or a prompt to a narrated, subtitled MP4.

The flow, one module per step (``pipeline`` only sequences them; each step returns a value
the next one takes, nothing passes through side files):

* sources: a Markdown lecture by the core's parser (:mod:`videojob.markdown_lecture`, shared with the
  gateway and operator, which refuse a bad lecture before any Pod), ``llm_source`` (openai, structured
  output), ``spec_source`` (the VideoJob spec the operator mounts), dispatched by ``sources``;
* ``config``: the settings and the spec resolved once into a frozen ``RenderConfig``;
* ``narration``: espeak-ng / OpenAI speech behind one interface, the voice chosen in one place;
* ``stages``: each scene from the cache (if the voice that spoke it is still the one wanted)
  or narrated and drawn; ``timing``: scene lengths and reveal times; ``subtitles``: WebVTT/SRT;
* ``manim_render`` + ``scenes/``: one Manim template per storyboard visual, rendered in
  parallel worker processes with TeX locked down (``manim_speedups`` makes holds cheap);
* ``assemble``: ffmpeg joins the silent scenes and muxes one narration track; ``publish``
  stores the result with its manifest;
* ``cache`` (content-addressed scenes and videos, a JSON manifest each) and ``storage``
  (file:// or S3 via MinIO, the one retry policy);
* ``progress`` (JSON lines or a bar), ``errors`` (the one map to reasons and exit codes),
  ``settings`` (VIDEOJOB_* variables) and ``cli`` (``videojob render``).

It never imports kopf or a Kubernetes client: the Pod holds no API credentials.
"""
