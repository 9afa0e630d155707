"""The built-in senses of IP words in English, French, German and Spanish (see digest/evidence.py).

Each group says which words name a topic, which of them need support, and what shows another sense. The
other senses are general causes, not single examples: the sea for piracy, money for counterfeits, liquor for
bootleg, public funds for misappropriation, fundamental rights for infringe, medicine and fashion for
patent, a mobile plan for fair use, sport for a "trademark" move, marketing for marca/marque/Marke.
"""

from __future__ import annotations

from .evidence import GENERIC, Sense

# Words of law and of IP offices, in the four languages: support for any weak term.
LEGAL = (
    *("court*", "judge*", "ruling*", "ruled", "rules that", "lawsuit*", "suit", "suits", "sue", "sues", "sued"),
    *("suing", "litigat*", "infring*", "licen*", "royalt*", "injunction*", "damages", "tribunal*", "appeal*"),
    *("jury", "verdict", "settle*", "claim*", "filed", "filing*", "files", "granted", "grant", "registr*"),
    *("applica*", "applicant*", "examin*", "owner*", "holder*", "protect*", "enforc*", "invalid*", "revok*"),
    *("revocation", "law", "laws", "legal", "lawyer*", "attorney*", "counsel", "statute*", "directive"),
    *("regulation", "rights holder*", "right holder*", "exclusive right*", "proceeding*", "dispute*"),
    *(
        "reform*",
        "concedid*",
        "otorgad*",
        "oficina",
        "annul*",
        "arbitra*",
        "beschwerdekammer*",
        "anspruch*",
        "reforme*",
        "office",
        "cour",
        "juge*",
        "jugement",
        "arret",
        "proces",
        "plainte",
        "demande*",
        "depot",
        "depose*",
    ),
    *("droit", "droits", "avocat*", "decision", "condamn*", "assign*", "contentieux", "litige*", "nullite"),
    *("gericht*", "urteil*", "klage*", "klagt", "verklagt", "verletz*", "anmeld*", "schutz*", "lizenz*"),
    *("bgh", "olg", "schadensersatz", "anwalt*", "rechtsstreit*", "beschluss", "verfahren*", "eingetragen*"),
    *("juzgado*", "jueza", "juez", "sentencia*", "demanda*", "solicitud*", "registro*", "proteccion"),
    *("licencia*", "infraccion*", "litigio*", "abogad*", "derecho", "derechos", "fallo", "tribunal supremo"),
    *("uspto", "euipo", "epo", "wipo", "oepm", "inpi", "dpma", "ukipo", "cnipa", "jpo", "kipo", "upc", "ohim"),
)

# Words that name IP as such: an entry holding one is about IP, so weak terms in it need no more support.
IP_CONTEXT = (
    *("intellectual property", "propriete intellectuelle", "propiedad intelectual", "proprieta intellettuale"),
    *("geistiges eigentum", "geistigen eigentum*", "ip rights", "ip law", "ip office", "ip strategy"),
    *("ip protection", "ip policy", "ip enforcement", "ip lawyer*", "ip attorney*", "ip litigation"),
)

_FUNDS = ("fund", "funds", "public money", "budget*", "treasury", "embezzl*", "corrupt*", "graft", "bribe*")
_FUNDS_MORE = ("mayor", "minister*", "councillor*", "official*", "charity", "donation*", "pension*", "taxpayer*")
_FUNDS_OTHER = ("fonds publics", "deniers publics", "detournement de fonds", "offentlich* geld*", "veruntreu*")
_FUNDS_ES = ("fondos publicos", "malversacion", "caudales publicos", "dinero publico", "erario")
_RIGHTS = ("constitution*", "fundamental right*", "human right*", "civil libert*", "free speech", "freedom*")
_RIGHTS_MORE = ("privacy right*", "right to privacy", "amendment", "religious", "liberte*", "droits fondamentaux")
_RIGHTS_OTHER = (
    "right to vote",
    "voting right*",
    "droit de vote",
    "wahlrecht",
    "derecho al voto",
    "verfassung*",
    "grundrecht*",
    "derechos fundamentales",
    "libertad*",
    "constitucion*",
)
_SEA = ("sea", "seas", "maritime", "ship", "ships", "shipping", "vessel*", "tanker*", "crew*", "navy", "naval")
_SEA_MORE = (
    "golden age",
    "blackbeard",
    "caribbean",
    "buccaneer*",
    "corsair*",
    "treasure",
    "coast*",
    "gulf",
    "somali*",
    "hijack*",
    "hostage*",
    "boarded",
    "strait*",
    "freighter*",
    "cargo ship*",
)
_SEA_FR = ("mer", "maritime*", "navire*", "bateau*", "golfe", "otage*", "cote somalienne", "marine nationale")
_SEA_DE = ("see", "schiff*", "seeraub*", "kuste*", "frachter*", "marine", "geisel*", "tanker")
_SEA_ES = ("mar", "barco*", "buque*", "maritim*", "rehen*", "golfo", "armada", "pesquero*")
_SPORT_TEAM = ("baseball", "pennant", "inning*", "mlb", "playoff*", "touchdown*", "nfl")
_MONEY = ("banknote*", "bank note*", "currency", "cash", "coin*", "central bank", "mint", "faux billets", "billets")
_MONEY_MORE = ("falschgeld", "geldschein*", "banknoten", "billetes", "moneda*", "money")
_LIQUOR = ("liquor", "alcohol*", "whisk*", "vodka", "gin", "rum", "moonshine", "spirits", "methanol", "poison*")
_LIQUOR_MORE = ("drink*", "drank", "brew*", "hooch", "prohibition", "alcool", "schnaps", "licor*", "bebida*")
_MEDICAL = ("ductus", "foramen", "ovale", "artery", "arteries", "arterial", "airway*", "lumen", "vein*")
_MEDICAL_MORE = ("patency", "occlu*", "stenosis", "bypass", "cardiac", "vessel*", "angiogra*", "heart defect*")
_FASHION_NOUNS = (
    r"leather|pumps?|heels?|boots?|loafers?|finish|trench|coat|skirts?|bags?|shoes?|sandals?|mules?|look"
    r"|shine|mini|belts?|clutch|brogues?|mary janes|stilettos?|court shoes|flats|slingbacks?|vinyl|lacquer"
)
_GOAL = ("goal*", "scored", "scoring", "celebrat*", "striker", "forward", "match", "fans", "dance", "kick*")
_GOAL_MORE = ("tor", "torjubel", "jubel*", "gol", "goles", "celebracion", "but", "buteur")
_MARKETING = ("marketing", "advert*", "campaign*", "consumer*", "loyalty", "influencer*", "ambassador*")
_MARKETING_FR = ("publicit*", "campagne*", "consommateur*", "image de marque", "ambassad*", "notoriete", "ventes")
_MARKETING_FR2 = ("lancement", "lance", "slogan", "egerie", "clientele", "fidelit*", "strategie marketing")
_MARKETING_DE = ("werbung", "werbe*", "kampagne*", "verbraucher*", "kunden*", "botschafter*", "image", "umsatz")
_MARKETING_DE2 = ("markenbotschafter*", "zielgruppe*", "automarke*", "lieblingsmarke*", "kultmarke*")
_MARKETING_ES = ("publicidad", "campana*", "consumidor*", "embajador*", "ventas", "lanza*", "clientes", "imagen")
_MARKETING_ES2 = ("marca personal", "marca pais", "marca ciudad", "fidelizacion", "patrocin*", "record*")
_RECORD_ES = (r"(?:bate|batio|batir|nueva|mejor|su) marca(?! registrada)", r"marca (?:mundial|personal|nacional)")
_DATA_PLAN = (
    "data plan*",
    "storage",
    "cloud",
    "limits",
    "cap",
    "caps",
    "quota*",
    "mobile",
    "broadband",
    "unlimited",
    "tariff*",
    "throttl*",
    "carrier*",
    "gb",
    "roaming",
)
_ACADEMIC = ("thesis", "dissertation*", "student*", "universit*", "academic*", "doctora*", "phd", "these")
_ACADEMIC_MORE = ("doktorarbeit", "tesis", "plagiatsaffare", "exam*", "essay*", "homework")
_GOODS = (
    *("goods", "products", "items", "handbag*", "bag", "bags", "watch", "watches", "shoe*", "sneaker*", "trainer*"),
    *("clothing", "clothes", "apparel", "garment*", "jersey*", "shirt*", "perfume*", "fragrance*", "cosmetic*"),
    *("luxury", "designer", "brand*", "sunglasses", "jewel*", "toy*", "spare parts", "medicines", "pills"),
    *("seiz*", "customs", "raid*", "warehouse*", "market*", "sellers", "vendor*", "confiscat*", "destroy*"),
    *(
        "wine*",
        "entrepot*",
        "lager",
        "almacen*",
        "designertasche*",
        "bottle*",
        "vintage*",
        "spirits brand*",
        "zoll",
        "beschlagnahm*",
        "ware",
        "waren",
        "douane*",
        "saisi*",
        "aduana*",
        "incaut*",
        "decomis*",
    ),
    *("productos", "mercancia*", "marchandise*", "produits", "articles", "objets", "policia", "police"),
)


_FAKE_NOUNS = (
    *("clothes", "shoes", "perfume", "perfumes", "bags", "handbags", "watches", "sneakers", "trainers", "jerseys"),
    *("shirts", "designer", "luxury", "branded", "brands", "toys", "cosmetics", "sunglasses", "jewellery"),
    *("jewelry", "apparel", "clothing", "football shirts", "labels", "spare parts", "medicines", "goods"),
)


SENSES: tuple[Sense, ...] = (
    Sense(
        "patents",
        strong=(
            *("patents", "patented", "patentee*", "patentab*", "patent infringement", "patent office"),
            *("patent application*", "patent holder*", "patent owner*", "patent law*", "patent troll*"),
            *("patent suit*", "patent dispute*", "patent case*", "patent litigation", "patent claim*"),
            *("patent portfolio*", "patent protection", "patent filing*", "patent pool*", "patent examiner*"),
            *("patent right*", "patent thicket*", "patent system", "patent pending", "patent fight*"),
            *("patent war*", "patent battle*", "patent lawsuit*", "patent reform", "patent court*"),
            *("uspto", "ptab", "unified patent court", "european patent*", "frand", "standard essential"),
            *("prior art", "patentamt*", "patentanmeld*", "patentverletz*", "patentrecht*", "patentstreit*"),
            *("patentschutz", "patentinhaber*", "patentklage*", "patentgericht*", "bundespatentgericht"),
            *("oeb", "office europeen des brevets", "oficina de patentes", "oficina europea de patentes"),
            *("supplementary protection*", "brevet europeen", "brevets europeens", "patente europea"),
            *("juridiction unifiee du brevet", "tribunal unificado de patentes", "einheitliches patentgericht"),
            *("europaisches patentamt", "inventive step", "obviousness", "claim construction"),
        ),
        weak=(
            *("patent", "brevet", "brevets", "patente", "patentes", "upc", "epo", "breveter", "brevete*"),
            *("patentierte*", "patentiert", "patenta", "patento", "patentado*", "epa", "jub", "tup", "oep"),
            r"re:\w{3,}patent(?:e|en|es|s)?(?!\w)",
        ),
        support=(
            *("drug*", "generic*", "pharma*", "biotech*", "biosimilar*", "technolog*", "device*", "chip*"),
            *("semiconductor*", "battery", "batteries", "software", "expir*", "exclusiv*", "portfolio*"),
            *(
                "invent*",
                "erfind*",
                "university",
                "universities",
                "research*",
                "startup*",
                "royalt*",
                "medicament*",
                "farmac*",
            ),
            *("medikament*", "technologie*", "tecnolog*", "entreprise*", "empresa*", "unternehmen"),
            *("obvious*", "federal circuit", "novelty", "inventive", "biologic*", "mobilfunk*", "hersteller*"),
        ),
        firm=(
            *("files", "filed", "filing*", "granted", "application*", "infring*", "licen*", "lawsuit*", "sue*"),
            *("court*", "invalid*", "upheld", "claims", "uspto", "epo", "oeb", "tribunal*", "gericht*"),
        ),
        against=(
            *_MEDICAL,
            *_MEDICAL_MORE,
            *("doping", "cyclist*", "cycling", "athlete*", "blood boost*", "barcode*", "bar code*", "radprofi*"),
            *("environment*", "emission*", "pollut*", "climate", "umwelt*", "positiv*", "positive", "sancion*"),
            *("college", "eleve*", "collegien*", "examen", "epreuve*", "diplome national", "bac"),
            *("matricula", "vehiculo*", "coche*", "automovil*", "conducir", "auto robado"),
        ),
        adjacent=(
            rf"\bpatent (?:{_FASHION_NOUNS})\b",
            r"\b(?:glossy|shiny|high shine|black|red|white|nude|cherry|burgundy|metallic|in) patent\b",
            r"\bpatent(?:ly| ly)\b",
            r"\b(?:remained|remains|is|was|were|stayed|kept) patent\b",
            r"\bepo (?:doping|use|test)",
            r"\bupc (?:code|barcode|label)",
            r"\bbrevet des colleges?\b",
        ),
    ),
    Sense(
        "trademarks",
        strong=(
            *("trade dress", "cybersquat*", "udrp", "likelihood of confusion"),
            *("confusingly similar", "word mark*", "figurative mark*", "eu trade mark*", "eu trademark*"),
            *("registered mark*", "service mark*", "collective mark*", "certification mark*", "non use"),
            *("genericide", "well known mark*", "trademark infringement", "trade mark infringement"),
            *("trademark office", "trademark law*", "trademark application*", "trademark registration*"),
            *("trademark dispute*", "trademark case*", "trademark suit*", "trademark lawsuit*", "trademarked"),
            *("trademark owner*", "trademark holder*", "trademark right*", "trademark protection"),
            *("trade mark application*", "trade mark registration*", "trade mark dispute*", "trade mark law*"),
            *("cancellation division", "cancellation action*", "invalidity action*"),
            *("opposition proceeding*", "cancellation proceeding*", "revocation for non use", "passing off"),
            *("markenrecht*", "markenverletz*", "markenstreit*", "markenanmeld*", "markenamt", "markeninhaber*"),
            *("markenschutz", "wortmarke*", "bildmarke*", "unionsmarke*", "verwechslungsgefahr", "markenregister"),
            *("marque deposee", "marques deposees", "droit des marques", "contrefacon de marque", "marque verbale"),
            *("marque figurative", "risque de confusion", "marca registrada", "marcas registradas"),
            *("derecho de marcas", "riesgo de confusion", "marca denominativa", "marca figurativa", "marchio*"),
            *("marca de la union", "marque de l union", "oposicion a la marca", "registro de marca*"),
        ),
        weak=(
            *("trademark", "trademarks", "trade mark", "trade marks", "marque", "marques", "marca", "marcas"),
            *("marke", "marken", "domain name*", "nom de domaine", "nombre de dominio", "ohim"),
        ),
        support=(
            *("euipo", "ukipo", "oepm", "inpi", "dpma", "uspto", "brand*", "distinctive*", "descriptive*"),
            *("confusion", "similar*", "goods", "class", "word", "figurative", "revoked", "use", "register*"),
            *("registr*", "application*", "applicant*", "opposition", "cancellation", "mark", "marks"),
            *("trademark*", "trade mark*", "deposee*", "enregistr*", "usage serieux", "uso efectivo"),
            *("widerspruch*", "losch*", "benutzung*", "unterscheidungskraft", "verwechsl*", "eintrag*"),
        ),
        against=(
            *_GOAL,
            *_GOAL_MORE,
            *_MARKETING,
            *_MARKETING_FR,
            *_MARKETING_FR2,
            *_MARKETING_DE,
            *_MARKETING_DE2,
            *_MARKETING_ES,
            *_MARKETING_ES2,
            *("anniversary", "anniversaire", "jubilaum", "aniversario", "milestone*", "halfway", "exam", "exams"),
            *("grade*", "stretch", "question mark*", "flight*", "airline*", "booking*", "passenger*"),
            *("refund*", "concert*", "party", "parties", "parliament*", "election*", "lawmakers", "coalition"),
            *("government", "vote*", "protest*", "rebels", "insurance", "subscription*", "vuelo*", "vol", "vols"),
            *("falsific*", "counterfeit*", "contrefa*", "fake*", "gefalscht*", "faux", "fausses", "brevet*"),
        ),
        firm=(
            *("application*", "registr*", "filed", "files", "filing*", "euipo", "inpi", "dpma", "oepm", "ukipo"),
            *("uspto", "opposition", "anmeld*", "eingetragen*", "depos*", "enregistr*", "solicitud*", "trademark"),
            *("office", "bid to trademark", "to trademark"),
            *("trade mark", "annul*", "decheance", "nullite", "loschung", "caducidad", "nulidad", "tribunal*"),
        ),
        adjacent=(
            r"\b(?:his|her|their|its|with (?:a|his|her)) trademark (?!application|registration|right|law|case"
            r"|dispute|suit|lawsuit|claim|filing|office|infringement|opposition|portfolio|owner|protection)\w+",
            r"\btrademark (?:smile|grin|laugh|style|look|wit|humou?r|charm|move|moves|sound|swagger|flair|celebration"
            r"|dance|goal|finish|hat|red|scarf|touch)\b",
            *_RECORD_ES,
            r"\b(?:marks?|mark) (?:the|a|an|its|his|her|their)\b",
            r"\bto mark\b",
            r"\bhigh water mark\b|\bfull marks\b",
        ),
    ),
    Sense(
        "trademarks",
        weak=("mark", "marks", "opposition", "opposition division", "cancellation", "euipo", "non use"),
        support=(
            *("ukipo", "oepm", "inpi", "dpma", "uspto", "brand*", "distinctive*", "descriptive*", "confusion"),
            *("similar*", "goods", "class", "word", "figurative", "revoked", "revocation", "register*", "registr*"),
            *("application*", "applicant*", "opposition", "cancellation", "mark", "marks", "trademark*"),
            *("trade mark*", "euipo", "board of appeal", "invalidity", "proprietor*", "genuine use"),
        ),
        firm=("registr*", "application*", "filed", "files", "office", "euipo", "cancellation action*"),
        against=(
            *_GOAL,
            *_GOAL_MORE,
            *("anniversary", "milestone*", "halfway", "exam", "exams", "grade*", "debt*", "loan*", "student*"),
            *("patent*", "epo", "oeb", "brevet*", "claims", "flight*", "airline*", "election*", "party"),
        ),
        adjacent=(
            r"\b(?:marks?|mark) (?:the|a|an|its|his|her|their)\b",
            r"\bto mark\b",
            r"\bhigh water mark\b|\bfull marks\b|\bquestion marks?\b|\bstretch marks?\b",
        ),
        legal=False,
    ),
    Sense(
        "copyright",
        strong=(
            *("copyright*", "dmca", "droit d auteur", "droits d auteur", "derechos de autor", "derecho de autor"),
            *("urheberrecht*", "diritto d autore", "site blocking", "pirate site*", "piracy site*", "anti piracy"),
            *("illegal streaming", "illegal download*", "neighbouring right*", "neighboring right*", "copyleft"),
            *("raubkopie*", "droit voisin*", "droits voisins", "leistungsschutzrecht*", "illegal stream*"),
            *(
                "illegale stream*",
                "streams ilegales",
                "streaming illegal",
                "descargas ilegales",
                "telechargement illegal",
            ),
            *("illegale downloads", "collecting societ*", "verwertungsgesellschaft*", "societe de gestion collective"),
            *("sociedad de gestion", "sacem", "gema", "sgae"),
            r"re:bootleg (?:\w+ )?(?:recordings?|albums?|tracks?|records?)(?!\w)",
            r"re:illegal (?:\w+ ){0,2}streams?(?!\w)",
        ),
        weak=(
            *("piracy", "pirate", "pirates", "pirated", "pirating", "piraterie", "pirateria", "piraten", "pirata*"),
            *("torrent*", "iptv", "fair use", "plagiar*", "plagiat*", "plagio*", "rip off", "ripoff", "urheber"),
            *("ripping off", "ripped off"),
            *("public domain", "domaine public", "dominio publico", "gemeinfrei*"),
        ),
        support=(
            *("film*", "movie*", "music*", "song*", "stream*", "website*", "sites", "software", "game*", "video*"),
            *("tv", "broadcast*", "content", "ebook*", "book*", "download*", "record label*", "studio*", "anime"),
            *("manga", "melod*", "riff", "chorus", "track*", "album*", "singer*", "lyric*", "band", "artist*"),
            *("composer*", "author*", "photo*", "work", "works", "copied", "copying", "parody", "transformative"),
            *("training", "musique", "chanson*", "telecharg*", "chaine*", "contenu*", "logiciel*", "musik"),
            *("lied*", "song", "seite*", "pelicula*", "cancion*", "descarga*", "contenido*", "partido*", "emisi*"),
        ),
        against=(
            *_SEA,
            *_SEA_MORE,
            *_SEA_FR,
            *_SEA_DE,
            *_SEA_ES,
            *_SPORT_TEAM,
            *_ACADEMIC,
            *_ACADEMIC_MORE,
            *_DATA_PLAN,
            *("prices", "price*", "energy bill*", "fees", "overcharg*", "consumers"),
        ),
        adjacent=(
            r"\bfair use polic(?:y|ies)\b",
            r"\bpirates? (?:of the caribbean|party|partei)\b",
            r"\bpirate (?:ship|ships|radio|costume|costumes|themed)\b",
        ),
    ),
    Sense(
        "trade-secrets",
        strong=(
            *("trade secret*", "industrial espionage", "economic espionage", "corporate espionage", "dtsa"),
            *("secret des affaires", "secrets des affaires", "secrets d affaires", "geschaftsgeheimnis*"),
            *("betriebsgeheimnis*", "secreto empresarial", "secretos empresariales", "secretos industriales"),
            *("secreto industrial", "segreto commerciale", "wirtschaftsspionage", "espionnage industriel"),
            *("espionaje industrial", "know how theft"),
        ),
        weak=("misappropriat*", "confidential information", "source code theft", "stole source code"),
        support=(
            *("confidential", "proprietary", "source code", "formula*", "customer list*", "engineer*"),
            *("employee*", "former", "rival*", "competitor*", "technology", "data", "files", "downloaded"),
            *("blueprint*", "design*", "recipe*"),
        ),
        against=(*_FUNDS, *_FUNDS_MORE, *_FUNDS_OTHER, *_FUNDS_ES),
    ),
    Sense(
        "designs",
        strong=(
            *("industrial design*", "design right*", "registered design*", "unregistered design*"),
            *("design patent*", "community design*", "design registration*", "design protection"),
            *("design law*", "design directive", "design regulation", "design reform", "design package"),
            *("registered community design*", "eu design*", "design infringement", "design legislation"),
            *("dessins et modeles", "dessin et modele", "dessins ou modeles", "dessin ou modele"),
            *("modele depose*", "modeles deposes", "geschmacksmuster*", "designschutz", "designrecht*"),
            *("eingetragenes design", "eingetragene designs", "diseno industrial", "disenos industriales"),
            *("diseno registrado", "disenos registrados", "modelo industrial", "modelos industriales"),
            *("diseno comunitario", "dibujos y modelos", "design rights", "spare parts clause", "repair clause"),
        ),
        weak=("design", "designs", "diseno", "disenos", "modele", "modeles", "dessin*"),
        support=(
            *("registered", "registration", "protect*", "infring*", "euipo"),
            *("novelty", "individual character", "overall impression", "informed user", "spare part*"),
            *("invalid*", "directive", "regulation", "reform", "court", "filed", "right", "rights", "depose*"),
            *("schutz*", "eingetragen*", "registr*", "proteccion", "protegid*"),
        ),
        against=(
            *("interior*", "trend*", "architect*", "website*", "web", "ux", "ui", "graphic*", "kitchen*"),
            *("garden*", "home", "homes", "game design*", "typeface", "font*", "logo design*", "decor*"),
            *("tendance*", "mode", "innenarchitektur", "wohn*", "tendencia*", "decoracion", "moda"),
        ),
        legal=False,
    ),
    Sense(
        "counterfeits",
        strong=(
            *("counterfeiting", "anti counterfeiting", "counterfeit goods", "counterfeit products"),
            *("counterfeit handbag*", "counterfeit watch*", "counterfeit shoe*", "counterfeit sneaker*"),
            *("counterfeit clothing", "counterfeit perfume*", "counterfeit luxury", "counterfeit items"),
            *("fake goods", "fake products", "knockoff*", "knock off*", "knock offs", "produktpiraterie"),
            *("markenfalschung*", "markenpiraterie", "contraffazion*"),
            *("productos falsificados", "ropa falsificada", "falsificaciones de marca*", "customs seizure*"),
            *("gefalschte markenware", "gefalschte ware*", "produits contrefaits"),
        ),
        weak=(
            *("counterfeit", "counterfeits", "counterfeiter*", "fakes", "falschung*", "falsificacion*"),
            *("contrefacon*", "contrefait*"),
            r"re:fake (?:\w+ ){0,2}(?:shirts?|jerseys?|bags|handbags|shoes|trainers|sneakers|watches|perfumes?"
            r"|clothes)",
            *("falsificad*", "gefalscht*", "imitaciones", "replica goods"),
        ),
        support=_GOODS,
        against=(
            *_MONEY,
            *_MONEY_MORE,
            *_RIGHTS,
            *_RIGHTS_MORE,
            *_RIGHTS_OTHER,
            *("passport*", "document*", "ballot*", "vaccination card*", "signature*", "pasaporte*", "ausweis*"),
            *("contrefacon de brevet", "contrefacon du brevet", "de brevet*", "du brevet", "dessin*", "modele*"),
            *("droit d auteur", "droits d auteur", "brevet", "brevets", "jub", "upc", "division locale"),
        ),
        firm=("saisi*", "douane*", "seiz*", "customs", "marchandise*", "produits", "vetements", "articles"),
        adjacent=(
            r"\bcounterfeit(?:ed)? (?:\w+ ){0,2}(?:money|banknotes?|bills?|notes?|currency|cash|coins?"
            r"|dollars?|euros?|pounds?|pesos?)\b",
            r"\bbootleg(?:ged)? (?:\w+ ){0,1}(?:liquor|alcohol|whisk(?:e)?y|vodka|gin|rum|spirits|booze|beer)\b",
            r"\bfake (?:news|account|accounts|review|reviews|profile|profiles|video|videos|image|images|call)\b",
        ),
    ),
    Sense(
        "counterfeits",
        weak=("bootleg", "bootlegs", "bootlegged", "bootleggers"),
        support=("merch*", "t shirt*", "shirt*", "clothing", "goods", "tour", "band", "concert", "vendor*", "seiz*"),
        against=(*_LIQUOR, *_LIQUOR_MORE),
        adjacent=(
            r"\bbootleg(?:ged)? (?:\w+ ){0,1}(?:liquor|alcohol|whisk(?:e)?y|vodka|gin|rum|spirits|booze|beer)\b",
        ),
    ),
    Sense(
        "counterfeits",
        weak=(
            *(f"fake {noun}" for noun in _FAKE_NOUNS),
            *("faux sacs", "fausses chaussures", "faux parfums", "faux vetements", "ropa falsa"),
            *("zapatillas falsas", "perfumes falsos", "bolsos falsos", "gefalschte schuhe", "gefalschte kleidung"),
        ),
        support=_GOODS,
        legal=False,
    ),
    Sense(
        "counterfeits",
        weak=("infring*", "verletzt", "infraccion*"),
        against=(*_RIGHTS, *_RIGHTS_MORE, *_RIGHTS_OTHER, "privacy", "data protection", "gdpr", "sanction*"),
        yields=True,
    ),
    Sense(
        GENERIC,
        yields=True,
        strong=(
            *("intellectual property", "propriete intellectuelle", "propiedad intelectual", "proprieta intellettuale"),
            *("geistiges eigentum", "geistigen eigentum*", "ip rights", "ip protection", "ip office*", "ip law"),
            *("ip laws", "ip theft", "ip enforcement", "ipr", "iprs", "ip regime", "ip system", "wipo", "ompi"),
        ),
    ),
    Sense(
        GENERIC,
        strong=(
            *("ip policy", "ipr policy", "ip strategy", "ip strategies", "national ip"),
            *("trips agreement", "trips waiver", "ip chapter", "strategie de propriete intellectuelle"),
            *("politique de propriete intellectuelle", "estrategia de propiedad intelectual", "ip reform"),
        ),
    ),
)
