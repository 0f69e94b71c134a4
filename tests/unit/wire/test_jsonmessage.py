import json

from dockyard.wire import jsonmessage


def test_encode_shapes():
    assert json.loads(jsonmessage.stream("Loaded image: a\n")) == {"stream": "Loaded image: a\n"}
    err = json.loads(jsonmessage.error("boom"))
    assert err == {"errorDetail": {"message": "boom"}, "error": "boom"}
    assert jsonmessage.error_of(err) == "boom" and jsonmessage.error_of({"stream": "x"}) is None


def test_decoder_handles_splits_and_concatenation():
    data = jsonmessage.status("Pulling", "abc") + b'{"stream":"\xc3\xa9"}{"error":"x"}'
    dec = jsonmessage.MessageDecoder()
    got = []
    for i in range(len(data)):
        got.extend(dec.feed(data[i : i + 1]))
    assert got == [{"status": "Pulling", "id": "abc"}, {"stream": "é"}, {"error": "x"}]
