from . import wa_composer
from . import wa_composer_variable
