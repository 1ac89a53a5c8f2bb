from . import wa_company_guard
from . import wa_account
from . import wa_conversation
from . import wa_message
from . import wa_template
from . import wa_template_variable
from . import wa_template_button
from . import wa_outbound_queue
from . import wa_webhook_log
from . import wa_record_mixin
from . import wa_bus
from . import res_company
from . import res_partner
from . import project_task
from . import account_move
from . import res_config_settings
<<<<<<< HEAD
from . import ir_http
=======
from . import wa_pacing
from . import wa_media_upload
>>>>>>> queue
