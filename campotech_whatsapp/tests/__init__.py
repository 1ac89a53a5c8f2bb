from . import test_webhook_controller
from . import test_inbound_processing
from . import test_media_download
from . import test_security
from . import test_account
from . import test_isolation
from . import test_secrets
from . import test_duplicates
