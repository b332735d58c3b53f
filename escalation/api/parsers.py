"""The API's JSON parser: DRF's, plus a clear 400 for JSON nested too deep to parse (Python's
json module raises RecursionError for it, which DRF's parser lets through as a 500)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply") from exc
