"""What one outbound SMS/MMS may carry (Twilio's limits), shared by the core's checks and
the bridges that refuse an oversized file before fetching it."""

MMS_MAX_FILES = 10
MMS_MAX_BYTES = 5 * 1024 * 1024
MMS_TYPES = ("image/jpeg", "image/jpg", "image/png", "image/gif")
MAX_BODY = 1600  # characters in one message body
