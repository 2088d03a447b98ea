// The `audio` interface: an <audio controls> player for the task's `audio` (a URL, a path this server
// serves, or a data: URI), under the task's label and above its text, if it has them.
import { mediaCard } from "./image.js";

export default {
  render(task, root, ctx) {
    const player = mediaCard(task, root, "audio", (src) => {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "metadata";
      audio.loop = !!ctx.config.audio_loop;
      audio.src = src;
      return audio;
    });
    if (player && ctx.config.audio_autoplay && !ctx.readonly) player.play().catch(() => {});  // a browser may refuse until a click
    return { key: () => false, destroy() { if (player) player.pause(); } };
  },
};
