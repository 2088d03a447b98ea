"""Prodigy's loaders on real files and folders: JSONL, JSON, CSV, TXT, Images, ImageServer, Audio,
AudioServer, get_stream's input_key, records without text, and the dataset: source."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from helpers_core import write_jsonl
from media_files import write_png, write_wav

from binanno.components.db import Database
from binanno.components.loaders import CSV, JSON, JSONL, TXT, Audio, AudioServer, Images, ImageServer, get_stream
from binanno.components.media import served_file
from binanno.errors import InvalidInput, UserError
from binanno.hashing import set_hashes, settle_hashes


def test_the_loader_functions_read_their_files(tmp_path: Path) -> None:
    rows = [{"text": "one"}, {"text": "two", "label": "X"}, {"text": "one"}]
    assert [t["text"] for t in JSONL(write_jsonl(tmp_path / "a.jsonl", rows))] == ["one", "two", "one"]  # duplicates kept
    (tmp_path / "a.json").write_text(json.dumps(rows), encoding="utf8")
    assert [t.get("label") for t in JSON(tmp_path / "a.json")] == [None, "X", None]
    (tmp_path / "a.txt").write_text("first\nsecond\n", encoding="utf8")
    tasks = list(TXT(tmp_path / "a.txt"))
    assert [t["text"] for t in tasks] == ["first", "second"] and all("_task_hash" in t for t in tasks)


def test_csv_headers_in_any_case(tmp_path: Path) -> None:
    # Prodigy's own example file: title-case headers, a meta column.
    path = tmp_path / "data.csv"
    path.write_text("Text,Label,Meta\nThis is a sentence.,POSITIVE,0\nAnother one.,NEGATIVE,0.1\n", encoding="utf8")
    first, second = CSV(path)
    assert first["text"] == "This is a sentence." and first["label"] == "POSITIVE" and first["meta"] == {"meta": 0}
    assert second["meta"] == {"meta": 0.1}
    upper = tmp_path / "upper.csv"
    upper.write_text("TEXT,source\nhello,web\n", encoding="utf8")
    assert next(get_stream(upper)) == {**next(get_stream(upper)), "text": "hello", "meta": {"source": "web"}}


def test_input_key_picks_the_field_with_the_input(tmp_path: Path) -> None:
    jsonl = write_jsonl(tmp_path / "a.jsonl", [{"body": "from the body", "meta": {"id": 1}}, {"text": "has text", "body": "x"}])
    first, second = get_stream(jsonl, input_key="body")
    assert first["text"] == "from the body" and "body" not in first
    assert second["text"] == "has text"  # a record with text keeps it
    csv = tmp_path / "a.csv"
    csv.write_text("id,Body\n7,a csv body\n", encoding="utf8")
    task = next(get_stream(csv, input_key="body"))
    assert task["text"] == "a csv body" and task["meta"] == {"id": "7"}
    with pytest.raises(UserError, match=r"no 'body' column \(found: text\)"):
        csv.write_text("text\nx\n", encoding="utf8")
        list(get_stream(csv, input_key="body"))
    urls = tmp_path / "urls.txt"
    urls.write_text("https://example.org/a.png\nhttps://example.org/b.png\n", encoding="utf8")
    tasks = list(get_stream(urls, input_key="image"))
    assert [t["image"] for t in tasks] == ["https://example.org/a.png", "https://example.org/b.png"]  # type: ignore[typeddict-item]
    assert tasks[0]["_input_hash"] != tasks[1]["_input_hash"]


def test_records_without_text_are_valid_when_they_carry_their_input(tmp_path: Path) -> None:
    rows = [
        {"label": "ORG", "pattern": [{"lower": "acme"}]},
        {"label": "ORG", "pattern": "Globex"},  # same label, another pattern: not a duplicate
        {"question": "Who?", "context": "Maria joined."},
        {"image": "data:image/png;base64,iVBORw0KGgo=", "spans": [{"points": [[0, 0], [1, 1]], "label": "CAT"}]},
        {"audio": "clip.wav", "text": ""},  # an empty text beside an input is no error
    ]
    tasks = list(get_stream(write_jsonl(tmp_path / "a.jsonl", rows)))
    assert len(tasks) == 5 and len({t["_input_hash"] for t in tasks}) == 5
    for row, needle in [({"pattern": "Globex"}, "a pattern needs a 'label'"), ({"words": "x"}, "no 'text' string"),
                        ({"text": "", "meta": {}}, "empty 'text'")]:
        with pytest.raises(InvalidInput, match=needle):
            list(get_stream(write_jsonl(tmp_path / "bad.jsonl", [row])))


def test_images_are_data_uris_with_path_and_meta(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    write_png(folder / "b.png")
    write_png(folder / "a.png", rgb=(0, 0, 255))
    (folder / "notes.txt").write_text("not an image", encoding="utf8")
    tasks = list(Images(folder))
    assert [t["meta"] for t in tasks] == [{"file": "a.png"}, {"file": "b.png"}]  # sorted, images only
    image = tasks[0]["image"]  # type: ignore[typeddict-item]
    assert image.startswith("data:image/png;base64,")
    assert base64.b64decode(image.split(",", 1)[1]) == (folder / "a.png").read_bytes()
    assert tasks[0]["path"] == str((folder / "a.png").resolve())  # type: ignore[typeddict-item]
    assert [t["meta"] for t in get_stream(folder, loader="images")] == [{"file": "a.png"}, {"file": "b.png"}]
    with pytest.raises(UserError, match="is a directory.*images, image-server"):
        get_stream(folder)
    with pytest.raises(UserError, match="Can't find the image folder"):
        Images(tmp_path / "nope")


def test_image_server_serves_its_folder_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    (folder / "sub").mkdir(parents=True)
    write_png(folder / "cat one.png")
    write_png(folder / "sub" / "deep.png")
    (folder / "secret.json").write_text("{}", encoding="utf8")
    (folder / ".hidden.png").write_bytes((folder / "cat one.png").read_bytes())
    write_png(tmp_path / "outside.png")
    (folder / "link.png").symlink_to(tmp_path / "outside.png")
    tasks = list(ImageServer(folder))
    urls = [t["image"] for t in tasks]  # type: ignore[typeddict-item]
    assert len(urls) == 2 and urls[0].startswith("/media/") and urls[0].endswith("/cat%20one.png")
    token = urls[0].split("/")[2]
    assert served_file(token, "cat one.png") == (folder / "cat one.png").resolve()
    assert served_file(token, "sub/deep.png") == (folder / "sub" / "deep.png").resolve()
    for name in ("../outside.png", "sub/../../outside.png", str(tmp_path / "outside.png"), "link.png",
                 "secret.json", ".hidden.png", "", "sub", "nope.png", "a\0.png"):
        assert served_file(token, name) is None, name
    assert served_file("0" * 12, "cat one.png") is None
    # The URL (and so the input hash) is the same on the next run.
    assert [t["_input_hash"] for t in get_stream(folder, loader="image-server")] == [t["_input_hash"] for t in
                                                                                     get_stream(folder, loader="image-server")]


def test_audio_loaders(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    write_wav(folder / "one.wav")
    write_png(folder / "cover.png")
    (task,) = Audio(folder)
    assert task["audio"].startswith("data:audio/") and task["meta"] == {"file": "one.wav"}  # type: ignore[typeddict-item]
    (served,) = AudioServer(folder)
    url = served["audio"]  # type: ignore[typeddict-item]
    assert served_file(url.split("/")[2], "one.wav") == (folder / "one.wav").resolve()
    assert served_file(url.split("/")[2], "cover.png") is None  # an audio folder serves audio only


def test_dataset_source_reads_answers_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "answers.db"
    monkeypatch.setenv("BINANNO_DB", str(target))
    db = Database(target)
    db.add_dataset("old")
    db.add_answers("old", [set_hashes({"text": t, "answer": a, "_view_id": "ner_manual"})  # type: ignore[typeddict-unknown-key]
                           for t, a in [("one", "accept"), ("two", "reject"), ("three", "accept")]], session_id="old-alice")
    stream = get_stream("dataset:old")
    db.add_answers("old", [set_hashes({"text": "four", "answer": "ignore"})], session_id="old-bob")  # read as consumed
    tasks = list(stream)
    assert [t["text"] for t in tasks] == ["one", "two", "three", "four"]
    assert all("_session_id" not in t and "_timestamp" not in t and "_view_id" not in t for t in tasks)
    assert tasks[0]["_task_hash"] == set_hashes({"text": "one"})["_task_hash"]
    assert [t["text"] for t in get_stream("dataset:old:accept")] == ["one", "three"]
    assert [t["text"] for t in get_stream("dataset:old:ignore")] == ["four"]
    with pytest.raises(UserError, match="Unknown dataset 'olt'"):
        get_stream("dataset:olt")
    with pytest.raises(UserError, match="unknown answer 'maybe'"):
        get_stream("dataset:old:maybe")
    db.close()


def test_a_label_added_after_loading_changes_the_task_hash(tmp_path: Path) -> None:
    loaded = next(get_stream(write_jsonl(tmp_path / "a.jsonl", [{"text": "Acme hires."}])))
    first = settle_hashes({**loaded, "label": "HIRING"})  # type: ignore[typeddict-item]
    second = settle_hashes({**loaded, "label": "FIRING"})  # type: ignore[typeddict-item]
    assert len({loaded["_task_hash"], first["_task_hash"], second["_task_hash"]}) == 3
    assert first["_input_hash"] == loaded["_input_hash"] == second["_input_hash"]
    assert first["_task_hash"] == set_hashes({"text": "Acme hires.", "label": "HIRING"})["_task_hash"]
    # A hash the recipe set itself after its change stays.
    own = set_hashes({**loaded, "label": "HIRING", "spans": []}, task_keys=("label",), overwrite=True)  # type: ignore[typeddict-item]
    assert settle_hashes(dict(own))["_task_hash"] == own["_task_hash"]  # type: ignore[arg-type]
    # And a task that still asks nothing keeps its hash.
    assert settle_hashes(dict(loaded))["_task_hash"] == loaded["_task_hash"]  # type: ignore[arg-type]


def test_get_stream_takes_loaded_tasks_and_refuses_an_api() -> None:
    tasks = list(get_stream(iter([{"text": "a"}, {"text": "a"}, {"text": "b", "label": "X"}])))
    assert [t["text"] for t in tasks] == ["a", "b"] and all("_task_hash" in t for t in tasks)
    with pytest.raises(InvalidInput, match=r"<stream>:2: no 'text' string"):
        list(get_stream([{"text": "a"}, {"words": "b"}]))
    with pytest.raises(UserError, match="loading from an API is not supported"):
        get_stream("x.jsonl", api="guardian")


def test_a_question_without_text_and_its_answer_share_one_key(tmp_path: Path) -> None:
    from binanno.hashing import input_key, task_key

    rows = [{"question": "Who joined?", "context": "Maria joined."}, {"label": "ORG", "pattern": "Acme"},
            {"image": "/media/x/a.png", "meta": {"file": "a.png"}}]
    for task in get_stream(write_jsonl(tmp_path / "a.jsonl", rows)):
        answer = {**task, "answer": "accept", "accept": ["A"], "user_input": "Maria", "meta": {"file": "b"}}
        assert task_key(answer) == task_key(task) and input_key(answer) == input_key(task)  # type: ignore[arg-type]
