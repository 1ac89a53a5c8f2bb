from . import wa_composer
from . import wa_composer_variable
from . import account_payment_register
