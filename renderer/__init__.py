"""videojob.renderer: a storyboard, a Markdown lecture or a prompt to a narrated, subtitled MP4.

The flow, one module per step (``pipeline`` only sequences them):

* sources: ``markdown_source`` (deterministic), ``llm_source`` (openai, structured output),
  ``spec_source`` (the VideoJob spec the operator mounts), dispatched by ``sources``;
* ``narration``: espeak-ng / OpenAI speech behind one interface, a fallback chain;
* ``timing``: scene lengths and reveal times from the speech; ``subtitles``: WebVTT/SRT;
* ``manim_render`` + ``scenes/``: one Manim template per storyboard visual, rendered in
  parallel worker processes with TeX locked down (``manim_speedups`` makes holds cheap);
* ``assemble``: ffmpeg joins the silent scenes and muxes one narration track;
* ``cache`` (content-addressed scenes and videos) and ``storage`` (file:// or S3 via MinIO);
* ``progress`` (JSON lines or a bar), ``errors`` (the one map to reasons and exit codes),
  ``settings`` (VIDEOJOB_* variables) and ``cli`` (``videojob render``).

It never imports kopf or a Kubernetes client: the Pod holds no API credentials.
"""
