/*! Baton chat widget. Plain JS, no dependencies, rendered in a shadow DOM.
 *
 * Embed:  <script src="https://support.example.com/widget.js" defer
 *           data-locale="de" data-position="left" data-color="#0f766e"></script>
 * or set  window.batonSettings = { locale, position, color, open, hideLauncher, baseUrl }.
 * SDK:    window.Baton.open() / close() / toggle() / identify(user, hash) / setAttributes(obj)
 *         / setLocale(code) / reset() / talkToTeam(); DOM events baton:ready, baton:message,
 *         baton:handoff on window.
 * Security: every text from the server is rendered with textContent/createElement, never as
 * HTML; links are http(s) only.
 */
(function () {
  "use strict";
  if (window.Baton && window.Baton.__baton) return;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var ds = (script && script.dataset) || {};
  var user = window.batonSettings || {};
  var BASE = (user.baseUrl || ds.baseUrl || (script ? new URL(script.src, location.href).origin : location.origin)).replace(/\/$/, "");
  var KEY = "baton:" + BASE + ":";

  // ------------------------------------------------------------------ texts (9 languages)
  var T = {
    en: { open: "Open chat", close: "Close chat", title: "Chat with us", greeting: "Hi! Ask me anything about our product. I answer from our docs, and the team is one click away.", placeholder: "Write a message…", send: "Send", talk: "Talk to the team", ai: "AI", sources: "Sources", helpful: "Helpful", notHelpful: "Not helpful", thanksRating: "Thanks for the feedback", waiting: "Waiting for the team. The AI keeps helping meanwhile.", joined: "{name} joined the conversation", agent: "Support", resolved: "This conversation was resolved.", rate: "How did we do?", star: "{n} of 5", comment: "Anything to add? (optional)", submit: "Send rating", thanks: "Thank you for your rating!", newConv: "Start a new conversation", emailAsk: "Nobody is available right now. Leave your email and we'll reply there.", email: "Your email", consent: "We'll use this address only to reply to this conversation.", emailSave: "Send", emailSaved: "We'll reply to {email}.", typing: "{name} is typing…", aiTyping: "AI is writing…", you: "You", failed: "Not sent.", retry: "Retry", reconnecting: "Reconnecting…", tooMany: "Too many messages. Try again in {s} s.", handedOff: "You're being connected to the team.", badEmail: "Please check the email address.", unread: "{n} unread", teamSoon: "Someone from the team will be with you shortly.", teamWait: "Someone from the team will be with you in about {n} min.", teamAway: "Nobody from the team is online right now.", teamBack: "Our team is offline until {when}.", leaveEmail: "Leave your email and we'll reply there.", handedBack: "The AI is helping you again.", reopened: "The team reopened this conversation.", delayed: "This is taking longer than usual. Your message is safe; the answer follows as soon as possible.", replyFailed: "Sorry, this could not be answered in time. The team has your message." },
    de: { open: "Chat öffnen", close: "Chat schließen", title: "Schreiben Sie uns", greeting: "Hallo! Fragen Sie mich alles zu unserem Produkt. Ich antworte aus unserer Dokumentation, und das Team ist nur einen Klick entfernt.", placeholder: "Nachricht schreiben…", send: "Senden", talk: "Mit dem Team sprechen", ai: "KI", sources: "Quellen", helpful: "Hilfreich", notHelpful: "Nicht hilfreich", thanksRating: "Danke für Ihr Feedback", waiting: "Warten auf das Team. Die KI hilft in der Zwischenzeit weiter.", joined: "{name} ist dem Gespräch beigetreten", agent: "Support", resolved: "Dieses Gespräch wurde abgeschlossen.", rate: "Wie zufrieden waren Sie?", star: "{n} von 5", comment: "Möchten Sie etwas ergänzen? (optional)", submit: "Bewertung senden", thanks: "Danke für Ihre Bewertung!", newConv: "Neues Gespräch beginnen", emailAsk: "Gerade ist niemand erreichbar. Hinterlassen Sie Ihre E-Mail, wir antworten dort.", email: "Ihre E-Mail", consent: "Wir nutzen diese Adresse nur, um auf dieses Gespräch zu antworten.", emailSave: "Senden", emailSaved: "Wir antworten an {email}.", typing: "{name} schreibt…", aiTyping: "Die KI schreibt…", you: "Sie", failed: "Nicht gesendet.", retry: "Erneut senden", reconnecting: "Verbindung wird hergestellt…", tooMany: "Zu viele Nachrichten. Bitte in {s} s erneut versuchen.", handedOff: "Sie werden mit dem Team verbunden.", badEmail: "Bitte prüfen Sie die E-Mail-Adresse.", unread: "{n} ungelesen", teamSoon: "Gleich ist jemand aus dem Team für Sie da.", teamWait: "Jemand aus dem Team ist in etwa {n} Min. für Sie da.", teamAway: "Gerade ist niemand aus dem Team online.", teamBack: "Unser Team ist bis {when} offline.", leaveEmail: "Hinterlassen Sie Ihre E-Mail, wir antworten dort.", handedBack: "Die KI hilft Ihnen wieder weiter.", reopened: "Das Team hat dieses Gespräch wieder geöffnet.", delayed: "Das dauert länger als sonst. Ihre Nachricht ist angekommen; die Antwort folgt so bald wie möglich.", replyFailed: "Leider konnte das nicht rechtzeitig beantwortet werden. Das Team hat Ihre Nachricht." },
    fr: { open: "Ouvrir le chat", close: "Fermer le chat", title: "Discutons", greeting: "Bonjour ! Posez-moi vos questions sur notre produit. Je réponds à partir de notre documentation, et l'équipe est à un clic.", placeholder: "Écrivez un message…", send: "Envoyer", talk: "Parler à l'équipe", ai: "IA", sources: "Sources", helpful: "Utile", notHelpful: "Pas utile", thanksRating: "Merci pour votre retour", waiting: "En attente de l'équipe. L'IA continue de vous aider.", joined: "{name} a rejoint la conversation", agent: "Support", resolved: "Cette conversation est résolue.", rate: "Comment était notre aide ?", star: "{n} sur 5", comment: "Un commentaire ? (facultatif)", submit: "Envoyer la note", thanks: "Merci pour votre note !", newConv: "Nouvelle conversation", emailAsk: "Personne n'est disponible pour le moment. Laissez votre e-mail, nous vous répondrons.", email: "Votre e-mail", consent: "Nous utiliserons cette adresse uniquement pour répondre à cette conversation.", emailSave: "Envoyer", emailSaved: "Nous répondrons à {email}.", typing: "{name} écrit…", aiTyping: "L'IA écrit…", you: "Vous", failed: "Non envoyé.", retry: "Réessayer", reconnecting: "Reconnexion…", tooMany: "Trop de messages. Réessayez dans {s} s.", handedOff: "Nous vous mettons en relation avec l'équipe.", badEmail: "Veuillez vérifier l'adresse e-mail.", unread: "{n} non lus", teamSoon: "Un membre de l'équipe arrive dans un instant.", teamWait: "Un membre de l'équipe vous répondra dans environ {n} min.", teamAway: "Personne de l'équipe n'est en ligne pour le moment.", teamBack: "Notre équipe est hors ligne jusqu'à {when}.", leaveEmail: "Laissez votre e-mail et nous vous répondrons.", handedBack: "L'IA vous aide de nouveau.", reopened: "L'équipe a rouvert cette conversation.", delayed: "Cela prend plus de temps que d'habitude. Votre message est bien reçu ; la réponse arrive dès que possible.", replyFailed: "Désolé, nous n'avons pas pu répondre à temps. L'équipe a reçu votre message." },
    es: { open: "Abrir chat", close: "Cerrar chat", title: "Habla con nosotros", greeting: "¡Hola! Pregúntame lo que quieras sobre nuestro producto. Respondo con nuestra documentación y el equipo está a un clic.", placeholder: "Escribe un mensaje…", send: "Enviar", talk: "Hablar con el equipo", ai: "IA", sources: "Fuentes", helpful: "Útil", notHelpful: "No es útil", thanksRating: "Gracias por tu opinión", waiting: "Esperando al equipo. Mientras tanto, la IA sigue ayudando.", joined: "{name} se ha unido a la conversación", agent: "Soporte", resolved: "Esta conversación se ha resuelto.", rate: "¿Qué tal te hemos atendido?", star: "{n} de 5", comment: "¿Algo más? (opcional)", submit: "Enviar valoración", thanks: "¡Gracias por tu valoración!", newConv: "Empezar una nueva conversación", emailAsk: "Ahora no hay nadie disponible. Déjanos tu correo y te responderemos allí.", email: "Tu correo", consent: "Solo usaremos esta dirección para responder a esta conversación.", emailSave: "Enviar", emailSaved: "Responderemos a {email}.", typing: "{name} está escribiendo…", aiTyping: "La IA está escribiendo…", you: "Tú", failed: "No enviado.", retry: "Reintentar", reconnecting: "Reconectando…", tooMany: "Demasiados mensajes. Inténtalo de nuevo en {s} s.", handedOff: "Te estamos conectando con el equipo.", badEmail: "Revisa la dirección de correo.", unread: "{n} sin leer", teamSoon: "Alguien del equipo te atenderá en breve.", teamWait: "Alguien del equipo te atenderá en unos {n} min.", teamAway: "Ahora no hay nadie del equipo conectado.", teamBack: "Nuestro equipo no está disponible hasta {when}.", leaveEmail: "Déjanos tu correo y te responderemos allí.", handedBack: "La IA vuelve a ayudarte.", reopened: "El equipo ha reabierto esta conversación.", delayed: "Esto está tardando más de lo habitual. Tu mensaje está a salvo; la respuesta llegará lo antes posible.", replyFailed: "Lo sentimos, no se ha podido responder a tiempo. El equipo tiene tu mensaje." },
    it: { open: "Apri la chat", close: "Chiudi la chat", title: "Scrivici", greeting: "Ciao! Chiedimi qualsiasi cosa sul nostro prodotto. Rispondo dalla nostra documentazione e il team è a un clic.", placeholder: "Scrivi un messaggio…", send: "Invia", talk: "Parla con il team", ai: "IA", sources: "Fonti", helpful: "Utile", notHelpful: "Non utile", thanksRating: "Grazie per il feedback", waiting: "In attesa del team. Nel frattempo l'IA continua ad aiutarti.", joined: "{name} si è unito alla conversazione", agent: "Supporto", resolved: "Questa conversazione è stata risolta.", rate: "Come ti abbiamo aiutato?", star: "{n} su 5", comment: "Vuoi aggiungere qualcosa? (facoltativo)", submit: "Invia valutazione", thanks: "Grazie per la valutazione!", newConv: "Inizia una nuova conversazione", emailAsk: "Al momento non c'è nessuno. Lascia la tua email e ti risponderemo lì.", email: "La tua email", consent: "Useremo questo indirizzo solo per rispondere a questa conversazione.", emailSave: "Invia", emailSaved: "Risponderemo a {email}.", typing: "{name} sta scrivendo…", aiTyping: "L'IA sta scrivendo…", you: "Tu", failed: "Non inviato.", retry: "Riprova", reconnecting: "Riconnessione…", tooMany: "Troppi messaggi. Riprova tra {s} s.", handedOff: "Ti stiamo mettendo in contatto con il team.", badEmail: "Controlla l'indirizzo email.", unread: "{n} non letti", teamSoon: "Qualcuno del team sarà da te a breve.", teamWait: "Qualcuno del team sarà da te tra circa {n} min.", teamAway: "Al momento nessuno del team è online.", teamBack: "Il nostro team è offline fino a {when}.", leaveEmail: "Lascia la tua email e ti risponderemo lì.", handedBack: "L'IA ti sta di nuovo aiutando.", reopened: "Il team ha riaperto questa conversazione.", delayed: "Ci vuole più tempo del solito. Il tuo messaggio è arrivato; la risposta arriverà il prima possibile.", replyFailed: "Spiacenti, non è stato possibile rispondere in tempo. Il team ha ricevuto il tuo messaggio." },
    nl: { open: "Chat openen", close: "Chat sluiten", title: "Chat met ons", greeting: "Hoi! Vraag me alles over ons product. Ik antwoord vanuit onze documentatie en het team is één klik verwijderd.", placeholder: "Schrijf een bericht…", send: "Versturen", talk: "Praat met het team", ai: "AI", sources: "Bronnen", helpful: "Nuttig", notHelpful: "Niet nuttig", thanksRating: "Bedankt voor je feedback", waiting: "Wachten op het team. De AI helpt ondertussen verder.", joined: "{name} neemt deel aan het gesprek", agent: "Support", resolved: "Dit gesprek is afgerond.", rate: "Hoe hebben we het gedaan?", star: "{n} van 5", comment: "Nog iets toe te voegen? (optioneel)", submit: "Beoordeling versturen", thanks: "Bedankt voor je beoordeling!", newConv: "Nieuw gesprek starten", emailAsk: "Er is nu niemand beschikbaar. Laat je e-mail achter, dan antwoorden we daar.", email: "Je e-mail", consent: "We gebruiken dit adres alleen om op dit gesprek te antwoorden.", emailSave: "Versturen", emailSaved: "We antwoorden op {email}.", typing: "{name} typt…", aiTyping: "De AI schrijft…", you: "Jij", failed: "Niet verstuurd.", retry: "Opnieuw", reconnecting: "Opnieuw verbinden…", tooMany: "Te veel berichten. Probeer het over {s} s opnieuw.", handedOff: "We verbinden je met het team.", badEmail: "Controleer het e-mailadres.", unread: "{n} ongelezen", teamSoon: "Iemand van het team is zo bij je.", teamWait: "Iemand van het team is over ongeveer {n} min. bij je.", teamAway: "Er is nu niemand van het team online.", teamBack: "Ons team is offline tot {when}.", leaveEmail: "Laat je e-mail achter, dan antwoorden we daar.", handedBack: "De AI helpt je weer verder.", reopened: "Het team heeft dit gesprek heropend.", delayed: "Dit duurt langer dan normaal. Je bericht is binnen; het antwoord volgt zo snel mogelijk.", replyFailed: "Sorry, dit kon niet op tijd beantwoord worden. Het team heeft je bericht." },
    pl: { open: "Otwórz czat", close: "Zamknij czat", title: "Napisz do nas", greeting: "Cześć! Zapytaj mnie o cokolwiek na temat naszego produktu. Odpowiadam na podstawie dokumentacji, a zespół jest o jedno kliknięcie stąd.", placeholder: "Napisz wiadomość…", send: "Wyślij", talk: "Porozmawiaj z zespołem", ai: "AI", sources: "Źródła", helpful: "Pomocne", notHelpful: "Niepomocne", thanksRating: "Dziękujemy za opinię", waiting: "Czekamy na zespół. W tym czasie AI nadal pomaga.", joined: "{name} dołącza do rozmowy", agent: "Wsparcie", resolved: "Ta rozmowa została zakończona.", rate: "Jak oceniasz naszą pomoc?", star: "{n} z 5", comment: "Chcesz coś dodać? (opcjonalnie)", submit: "Wyślij ocenę", thanks: "Dziękujemy za ocenę!", newConv: "Rozpocznij nową rozmowę", emailAsk: "Nikt nie jest teraz dostępny. Zostaw e-mail, odpowiemy tam.", email: "Twój e-mail", consent: "Użyjemy tego adresu tylko do odpowiedzi w tej rozmowie.", emailSave: "Wyślij", emailSaved: "Odpowiemy na {email}.", typing: "{name} pisze…", aiTyping: "AI pisze…", you: "Ty", failed: "Nie wysłano.", retry: "Ponów", reconnecting: "Ponowne łączenie…", tooMany: "Za dużo wiadomości. Spróbuj za {s} s.", handedOff: "Łączymy Cię z zespołem.", badEmail: "Sprawdź adres e-mail.", unread: "{n} nieprzeczytane", teamSoon: "Ktoś z zespołu zaraz się odezwie.", teamWait: "Ktoś z zespołu odezwie się za około {n} min.", teamAway: "Nikt z zespołu nie jest teraz dostępny.", teamBack: "Nasz zespół jest niedostępny do {when}.", leaveEmail: "Zostaw e-mail, odpowiemy tam.", handedBack: "AI znowu Ci pomaga.", reopened: "Zespół ponownie otworzył tę rozmowę.", delayed: "To trwa dłużej niż zwykle. Twoja wiadomość dotarła; odpowiedź pojawi się najszybciej, jak to możliwe.", replyFailed: "Niestety nie udało się odpowiedzieć na czas. Zespół otrzymał Twoją wiadomość." },
    pt: { open: "Abrir chat", close: "Fechar chat", title: "Fale connosco", greeting: "Olá! Pergunte-me o que quiser sobre o nosso produto. Respondo com base na nossa documentação e a equipa está a um clique.", placeholder: "Escreva uma mensagem…", send: "Enviar", talk: "Falar com a equipa", ai: "IA", sources: "Fontes", helpful: "Útil", notHelpful: "Não foi útil", thanksRating: "Obrigado pelo feedback", waiting: "À espera da equipa. Entretanto, a IA continua a ajudar.", joined: "{name} juntou-se à conversa", agent: "Suporte", resolved: "Esta conversa foi resolvida.", rate: "Como correu?", star: "{n} de 5", comment: "Algo a acrescentar? (opcional)", submit: "Enviar avaliação", thanks: "Obrigado pela sua avaliação!", newConv: "Iniciar nova conversa", emailAsk: "De momento ninguém está disponível. Deixe o seu email e responderemos por lá.", email: "O seu email", consent: "Usaremos este endereço apenas para responder a esta conversa.", emailSave: "Enviar", emailSaved: "Responderemos para {email}.", typing: "{name} está a escrever…", aiTyping: "A IA está a escrever…", you: "Você", failed: "Não enviado.", retry: "Tentar de novo", reconnecting: "A restabelecer ligação…", tooMany: "Demasiadas mensagens. Tente novamente em {s} s.", handedOff: "Estamos a ligá-lo à equipa.", badEmail: "Verifique o endereço de email.", unread: "{n} por ler", teamSoon: "Alguém da equipa vai atendê-lo em breve.", teamWait: "Alguém da equipa vai atendê-lo dentro de cerca de {n} min.", teamAway: "De momento ninguém da equipa está online.", teamBack: "A nossa equipa está offline até {when}.", leaveEmail: "Deixe o seu email e responderemos por lá.", handedBack: "A IA está novamente a ajudá-lo.", reopened: "A equipa reabriu esta conversa.", delayed: "Isto está a demorar mais do que o habitual. A sua mensagem foi recebida; a resposta segue assim que possível.", replyFailed: "Lamentamos, não foi possível responder a tempo. A equipa recebeu a sua mensagem." },
    sv: { open: "Öppna chatten", close: "Stäng chatten", title: "Chatta med oss", greeting: "Hej! Fråga mig vad som helst om vår produkt. Jag svarar utifrån vår dokumentation, och teamet är ett klick bort.", placeholder: "Skriv ett meddelande…", send: "Skicka", talk: "Prata med teamet", ai: "AI", sources: "Källor", helpful: "Hjälpsamt", notHelpful: "Inte hjälpsamt", thanksRating: "Tack för din feedback", waiting: "Väntar på teamet. AI:n fortsätter hjälpa till under tiden.", joined: "{name} anslöt till samtalet", agent: "Support", resolved: "Det här samtalet är avslutat.", rate: "Hur gick det?", star: "{n} av 5", comment: "Något att lägga till? (valfritt)", submit: "Skicka betyg", thanks: "Tack för ditt betyg!", newConv: "Starta ett nytt samtal", emailAsk: "Ingen är tillgänglig just nu. Lämna din e-post så svarar vi där.", email: "Din e-post", consent: "Vi använder adressen bara för att svara i det här samtalet.", emailSave: "Skicka", emailSaved: "Vi svarar till {email}.", typing: "{name} skriver…", aiTyping: "AI:n skriver…", you: "Du", failed: "Inte skickat.", retry: "Försök igen", reconnecting: "Återansluter…", tooMany: "För många meddelanden. Försök igen om {s} s.", handedOff: "Vi kopplar dig till teamet.", badEmail: "Kontrollera e-postadressen.", unread: "{n} olästa", teamSoon: "Någon från teamet är strax hos dig.", teamWait: "Någon från teamet är hos dig om cirka {n} min.", teamAway: "Ingen från teamet är online just nu.", teamBack: "Vårt team är offline till {when}.", leaveEmail: "Lämna din e-post så svarar vi där.", handedBack: "AI:n hjälper dig igen.", reopened: "Teamet har öppnat samtalet igen.", delayed: "Det här tar längre tid än vanligt. Ditt meddelande har kommit fram; svaret kommer så snart som möjligt.", replyFailed: "Tyvärr kunde vi inte svara i tid. Teamet har fått ditt meddelande." }
  };

  function pickLocale(pref) {
    var cands = [pref, ds.locale, user.locale].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < cands.length; i++) {
      var c = String(cands[i] || "").toLowerCase().split(/[-_]/)[0];
      if (T[c]) return c;
    }
    return "en";
  }
  var locale = pickLocale();
  function t(key, vars) {
    var s = (T[locale] && T[locale][key]) || T.en[key] || key;
    if (vars) for (var k in vars) s = s.split("{" + k + "}").join(String(vars[k]));
    return s;
  }

  // ------------------------------------------------------------------ state
  var store = {
    get: function (k) { try { return localStorage.getItem(KEY + k); } catch (e) { return null; } },
    set: function (k, v) { try { if (v == null) localStorage.removeItem(KEY + k); else localStorage.setItem(KEY + k, v); } catch (e) { /* private mode */ } }
  };
  var S = {
    token: store.get("token"),
    conv: null,          // WidgetConversation from the server
    messages: new Map(), // seq -> message
    pending: new Map(),  // client_id -> {text, failed}
    lastSeq: 0,
    open: false,
    config: null,
    es: null,
    backoff: 1000,
    reconnectTimer: null,
    aiTyping: null,
    agentTyping: null,
    availability: null,
    csatScore: 0,
    ready: false
  };

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      var v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "text") n.textContent = v;
      else if (k === "class") n.className = v;
      else if (k.slice(0, 2) === "on") n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : v);
    }
    (kids || []).forEach(function (c) { if (c != null) n.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return n;
  }
  function safeUrl(u) {
    try { var x = new URL(u, location.href); return x.protocol === "http:" || x.protocol === "https:" ? x.href : null; } catch (e) { return null; }
  }
  function svg(path) {
    var ns = "http://www.w3.org/2000/svg";
    var s = document.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 24 24"); s.setAttribute("aria-hidden", "true"); s.setAttribute("focusable", "false");
    var p = document.createElementNS(ns, "path"); p.setAttribute("d", path); s.appendChild(p);
    return s;
  }
  var ICON = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M3 20l18-8L3 4v6l12 2-12 2z",
    up: "M7 22V11M2 13v7a2 2 0 0 0 2 2h12.4a2 2 0 0 0 2-1.7l1.4-7A2 2 0 0 0 17.8 11H14V6a3 3 0 0 0-3-3l-4 8",
    down: "M17 2v11M22 11V4a2 2 0 0 0-2-2H7.6a2 2 0 0 0-2 1.7l-1.4 7A2 2 0 0 0 6.2 13H10v5a3 3 0 0 0 3 3l4-8"
  };

  /** The citation marker [n] linking to citation n, or null when there is none. */
  function cite(n, citations) {
    var c = (citations || []).filter(function (x) { return String(x.n) === n; })[0];
    var href = c && safeUrl(c.url);
    return c ? el(href ? "a" : "span", { class: "cite", href: href, target: href && "_blank", rel: href && "noopener noreferrer", title: c.title, text: "[" + n + "]" }) : null;
  }

  /** Text with [n] citation markers, bare http(s) links, **bold** and line breaks (with `code`
   *  too when asked: the inline format of answer blocks), as DOM nodes. Never markup. */
  function richText(text, citations, code) {
    var frag = document.createDocumentFragment();
    var re = code ? /\[(\d{1,2})\]|(https?:\/\/[^\s<>()`]+[^\s<>().,;:!?'"`])|\*\*([^*\n]+)\*\*|`([^`\n]+)`|\n/g : /\[(\d{1,2})\]|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|\*\*([^*\n]+)\*\*|\n/g;
    var last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1]) {
        frag.appendChild(cite(m[1], citations) || document.createTextNode(m[0]));
      } else if (m[2]) {
        var u = safeUrl(m[2]);
        frag.appendChild(u ? el("a", { href: u, target: "_blank", rel: "noopener noreferrer", text: m[2] }) : document.createTextNode(m[2]));
      } else if (m[3]) {
        frag.appendChild(el("strong", { text: m[3] }));
      } else if (m[4]) {
        frag.appendChild(el("code", { text: m[4] }));
      } else {
        frag.appendChild(el("br"));
      }
      last = re.lastIndex;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  /** An answer's blocks (paragraph, steps, list, code, table, note, intro) as DOM nodes; after
   *  the last block of a run quoting the same source, its marker [n] unless the text has it. */
  function renderBlocks(blocks, citations) {
    var frag = document.createDocumentFragment();
    function rich(s) { return richText(s == null ? "" : String(s), citations, 1); }
    blocks.forEach(function (b, i) {
      b = b || {};
      var k = b.kind, items = [].concat(b.items || []).filter(function (x) { return x != null && x !== ""; }), rows = [].concat(b.rows || []), node, tail, n = b.cite, next = blocks[i + 1];
      if (k === "steps" || k === "list") {
        node = el(k === "list" ? "ul" : "ol", { start: k === "steps" && b.start != null ? String(b.start) : null }, items.map(function (x) { return el("li", null, [rich(x)]); }));
        tail = node.lastChild;
      } else if (k === "code") {
        node = el("pre", null, [el("code", { text: b.text || "" })]);
      } else if (k === "table") {
        rows = rows.map(function (r) { return [].concat(r || []); });
        node = el("div", { class: "tbl" }, [el("table", null, rows.map(function (r, j) {
          return el(j ? "tr" : "thead", null, j ? r.map(function (c) { return el("td", null, [rich(c)]); }) : [el("tr", null, r.map(function (c) { return el("th", { scope: "col" }, [rich(c)]); }))]);
        }))]);
      } else {
        node = tail = el("p", { class: k === "note" || k === "intro" ? k : null }, [rich(b.text)]);
      }
      if (!(b.text || items.length || rows.length)) return;
      frag.appendChild(node);
      if (n > 0 && !(next && next.cite === n) && [b.text].concat(items, [].concat.apply([], rows)).join(" ").indexOf("[" + n + "]") < 0) {
        var c = cite(String(n), citations);
        if (c) (tail || frag.appendChild(el("div", { class: "src" }))).appendChild(c);
      }
    });
    return frag;
  }

  // ------------------------------------------------------------------ styles
  function contrastOn(hex) {
    var m = /^#?([0-9a-f]{6})$/i.exec(hex || "");
    if (!m) return "#fff";
    var n = parseInt(m[1], 16), r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    return (0.299 * r + 0.587 * g + 0.114 * b) > 160 ? "#111827" : "#ffffff";
  }
  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".root{--accent:#2563eb;--on-accent:#fff;--bg:#fff;--fg:#111827;--muted:#5b6472;--line:#e5e7eb;--bubble:#f3f4f6;--shadow:0 12px 40px rgba(0,0,0,.18);font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Ubuntu,sans-serif;color:var(--fg)}",
    "@media (prefers-color-scheme:dark){.root{--bg:#111827;--fg:#f3f4f6;--muted:#a3acb9;--line:#2d3748;--bubble:#1f2937;--shadow:0 12px 40px rgba(0,0,0,.6)}}",
    ".launcher{position:fixed;bottom:20px;right:20px;width:58px;height:58px;border-radius:50%;border:0;background:var(--accent);color:var(--on-accent);box-shadow:var(--shadow);cursor:pointer;display:grid;place-items:center;z-index:2147483000;transition:transform .15s}",
    ".left .launcher{right:auto;left:20px}",
    ".launcher:hover{transform:scale(1.05)}",
    ".launcher svg{width:28px;height:28px;fill:currentColor}",
    ".launcher[aria-expanded=true] svg{fill:none;stroke:currentColor;stroke-width:2.2;stroke-linecap:round}",
    ".badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid var(--bg)}",
    ".badge[hidden]{display:none}",
    ".panel{position:fixed;bottom:90px;right:20px;width:380px;height:min(620px,calc(100vh - 110px));background:var(--bg);color:var(--fg);border-radius:16px;box-shadow:var(--shadow);display:flex;flex-direction:column;overflow:hidden;z-index:2147483001;border:1px solid var(--line);transform-origin:bottom right;transition:opacity .18s,transform .18s}",
    ".left .panel{right:auto;left:20px;transform-origin:bottom left}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:10px;padding:14px 14px 12px;background:var(--accent);color:var(--on-accent)}",
    ".avatar{width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.22);display:grid;place-items:center;font-weight:700;overflow:hidden;flex:none}",
    ".avatar img{width:100%;height:100%;object-fit:cover}",
    ".who{flex:1;min-width:0}",
    ".who h2{margin:0;font-size:16px;font-weight:650;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".status{font-size:12.5px;opacity:.9;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".icon{background:transparent;border:0;color:inherit;width:36px;height:36px;border-radius:8px;cursor:pointer;display:grid;place-items:center}",
    ".icon:hover{background:rgba(255,255,255,.16)}",
    ".icon svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2.2;stroke-linecap:round}",
    ".log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}",
    ".msg{max-width:86%;display:flex;flex-direction:column;gap:3px}",
    ".msg.me{align-self:flex-end;align-items:flex-end}",
    ".meta{font-size:12px;color:var(--muted);display:flex;gap:6px;align-items:center}",
    ".tag{font-size:10.5px;font-weight:700;letter-spacing:.04em;padding:1px 6px;border-radius:6px;background:var(--accent);color:var(--on-accent)}",
    ".bubble{padding:9px 12px;border-radius:14px;background:var(--bubble);white-space:pre-wrap;overflow-wrap:anywhere}",
    ".me .bubble{background:var(--accent);color:var(--on-accent);border-bottom-right-radius:4px}",
    ".them .bubble{border-bottom-left-radius:4px}",
    ".me .bubble a{color:inherit}",
    ".bubble a{color:var(--accent)}",
    "@media (prefers-color-scheme:dark){.them .bubble a,.sources a{color:#93c5fd}}",
    ".cite{font-size:.8em;vertical-align:super;text-decoration:none;margin:0 1px}",
    ".bubble p,.bubble ol,.bubble ul,pre,.tbl{margin:0 0 6px}",
    ".bubble>:last-child{margin-bottom:0}",
    ".bubble ol,.bubble ul{padding-left:22px}",
    ".bubble li+li{margin-top:2px}",
    "pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}",
    "pre{white-space:pre;overflow-x:auto;padding:7px 9px;line-height:1.4;border-radius:8px;background:var(--bg);border:1px solid var(--line)}",
    ".bubble :not(pre)>code{padding:1px 4px;border-radius:4px;background:var(--bg);border:1px solid var(--line)}",
    ".tbl{overflow-x:auto}",
    "table{border-collapse:collapse;font-size:13px;line-height:1.35;background:var(--bg)}",
    "th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top;overflow-wrap:normal}",
    "th{font-weight:600}",
    ".note{border-left:3px solid var(--accent);padding-left:9px}",
    ".intro{color:var(--muted);font-style:italic;font-size:13.5px}",
    ".src{margin-top:-4px;line-height:1}",
    ".src .cite{vertical-align:baseline}",
    ".pending .bubble{opacity:.65}",
    ".failed{font-size:12px;color:#dc2626;display:flex;gap:6px;align-items:center}",
    ".link{background:none;border:0;padding:0;color:var(--accent);text-decoration:underline;cursor:pointer;font:inherit}",
    ".sources{margin:2px 0 0;padding:8px 10px 8px 28px;border-left:3px solid var(--line);font-size:13px}",
    ".sources li{margin:2px 0}",
    ".sources-title{font-size:12px;color:var(--muted);margin-top:4px}",
    ".rating{display:flex;gap:4px;align-items:center;font-size:12px;color:var(--muted)}",
    ".rating button{background:transparent;border:1px solid var(--line);color:var(--muted);width:30px;height:28px;border-radius:8px;cursor:pointer;display:grid;place-items:center}",
    ".rating button svg{width:16px;height:16px;fill:none;stroke:currentColor;stroke-width:2;stroke-linejoin:round}",
    ".rating button[aria-pressed=true]{border-color:var(--accent);color:var(--accent)}",
    ".event{align-self:center;text-align:center;font-size:12.5px;color:var(--muted);max-width:92%}",
    ".typing{font-size:12.5px;color:var(--muted);padding:0 14px 6px;min-height:18px}",
    ".card{border:1px solid var(--line);border-radius:12px;padding:12px;display:flex;flex-direction:column;gap:8px;background:var(--bg)}",
    ".card p{margin:0}",
    ".card small{color:var(--muted)}",
    ".stars{display:flex;gap:6px}",
    ".stars button{flex:1;height:38px;border-radius:10px;border:1px solid var(--line);background:transparent;color:var(--fg);font:inherit;font-size:17px;cursor:pointer}",
    ".stars button[aria-pressed=true]{background:var(--accent);color:var(--on-accent);border-color:var(--accent)}",
    "input,textarea{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:10px;padding:9px 11px;width:100%}",
    "input:focus-visible,textarea:focus-visible,button:focus-visible,a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}",
    "header button:focus-visible{outline-color:var(--on-accent)}",
    ".primary{background:var(--accent);color:var(--on-accent);border:0;border-radius:10px;padding:9px 14px;font:inherit;font-weight:600;cursor:pointer}",
    ".primary:disabled{opacity:.5;cursor:default}",
    "footer{border-top:1px solid var(--line);padding:10px 12px 12px;display:flex;flex-direction:column;gap:8px}",
    ".talk{align-self:flex-start;background:transparent;border:1px solid var(--line);color:var(--fg);border-radius:999px;padding:5px 12px;font:inherit;font-size:13px;cursor:pointer}",
    ".talk:hover{border-color:var(--accent)}",
    ".talk[hidden]{display:none}",
    "form.compose{display:flex;gap:8px;align-items:flex-end}",
    "form.compose textarea{resize:none;max-height:120px;min-height:42px}",
    ".send{width:42px;height:42px;flex:none;border-radius:10px;border:0;background:var(--accent);color:var(--on-accent);cursor:pointer;display:grid;place-items:center}",
    ".send svg{width:20px;height:20px;fill:currentColor}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".powered{font-size:11px;color:var(--muted);text-align:center}",
    "@media (max-width:480px){.panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0;border:0}.open .launcher{display:none}}",
    "@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important;scroll-behavior:auto!important}}"
  ].join("\n");

  // ------------------------------------------------------------------ build the UI
  var host = el("div", { id: "baton-widget" });
  var shadow = host.attachShadow({ mode: "open" });
  var root = el("div", { class: "root" });
  var badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  var launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "baton-panel", onclick: function () { toggle(); } }, [svg(ICON.chat), badge]);
  var avatar = el("div", { class: "avatar", "aria-hidden": "true" });
  var titleEl = el("h2", { id: "baton-title" });
  var statusEl = el("div", { class: "status", role: "status", "aria-live": "polite" });
  var closeBtn = el("button", { class: "icon close", type: "button", onclick: function () { close(); } }, [svg(ICON.close)]);
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
  var cards = el("div", { class: "cards" });
  var typingEl = el("div", { class: "typing", "aria-live": "polite" });
  var talkBtn = el("button", { class: "talk", type: "button", onclick: function () { talkToTeam(); } });
  var input = el("textarea", { id: "baton-input", rows: "1", maxlength: "4000", autocomplete: "off" });
  var inputLabel = el("label", { class: "sr", for: "baton-input" });
  var sendBtn = el("button", { class: "send", type: "submit" }, [svg(ICON.send)]);
  var form = el("form", { class: "compose", onsubmit: function (e) { e.preventDefault(); sendFromInput(); } }, [inputLabel, input, sendBtn]);
  var panel = el("div", { class: "panel", id: "baton-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "baton-title", hidden: true }, [
    el("header", null, [avatar, el("div", { class: "who" }, [titleEl, statusEl]), closeBtn]),
    log,
    typingEl,
    el("footer", null, [talkBtn, form])
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);
  // A constructed stylesheet works under a strict Content-Security-Policy (no inline <style>).
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    shadow.appendChild(el("style", { text: CSS }));
  }
  shadow.appendChild(root);

  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.stopPropagation(); close(); } });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendFromInput(); }
  });
  input.addEventListener("input", function () {
    input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight, 120) + "px";
    typingPing();
  });

  function applyStaticTexts() {
    var cfg = (S.config && S.config.widget) || {};
    var team = cfg.team_name || "Support";
    titleEl.textContent = team;
    launcher.setAttribute("aria-label", S.open ? t("close") : t("open"));
    closeBtn.setAttribute("aria-label", t("close"));
    closeBtn.setAttribute("title", t("close"));
    talkBtn.textContent = t("talk");
    input.placeholder = t("placeholder");
    inputLabel.textContent = t("placeholder");
    sendBtn.setAttribute("aria-label", t("send"));
    log.setAttribute("aria-label", t("title"));
    avatar.textContent = "";
    var a = cfg.avatar_url && (safeUrl(cfg.avatar_url) || (/^data:image\/(png|jpe?g|gif|webp|svg\+xml);/i.test(cfg.avatar_url) ? cfg.avatar_url : null));
    if (a) avatar.appendChild(el("img", { src: a, alt: "" }));
    else avatar.textContent = team.split(/\s+/).map(function (w) { return w.charAt(0); }).join("").slice(0, 2).toUpperCase();
    updateBadge();
  }

  function applyLook() {
    var cfg = (S.config && S.config.widget) || {};
    var color = user.color || ds.color || cfg.color || "#2563eb";
    if (!/^#[0-9a-f]{3,8}$/i.test(color)) color = "#2563eb";
    root.style.setProperty("--accent", color);
    root.style.setProperty("--on-accent", contrastOn(color));
    var pos = user.position || ds.position || cfg.position || "right";
    root.classList.toggle("left", pos === "left");
    if (user.hideLauncher || ds.hideLauncher === "true") launcher.style.display = "none";
  }

  // ------------------------------------------------------------------ HTTP
  function api(method, path, body, retried) {
    var headers = { "Content-Type": "application/json" };
    if (S.token) headers.Authorization = "Bearer " + S.token;
    return fetch(BASE + "/api/widget" + path, { method: method, headers: headers, body: body == null ? undefined : JSON.stringify(body), credentials: "omit" })
      .then(function (r) {
        if (r.status === 401 && !retried && path !== "/session") {
          // The token is gone (data reset, erased): start over as a new visitor.
          return newSession().then(function () { return api(method, path, body, true); });
        }
        return r.text().then(function (txt) {
          var data = null;
          try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = null; }
          if (!r.ok) {
            var err = new Error((data && data.message) || ("HTTP " + r.status));
            err.status = r.status; err.code = data && data.code; err.retryAfter = Number(r.headers.get("Retry-After")) || 0;
            throw err;
          }
          return data;
        });
      });
  }

  function newSession() {
    return api("POST", "/session").then(function (s) {
      S.token = s.token; store.set("token", s.token);
      stopStream();
      S.conv = null; S.messages.clear(); S.lastSeq = 0;
      return sendContext();
    });
  }

  function ensureSession() {
    return S.token ? Promise.resolve() : newSession();
  }

  var pendingContext = {};
  function sendContext(extra) {
    var body = Object.assign({
      locale: locale,
      timezone: (Intl.DateTimeFormat().resolvedOptions().timeZone) || "",
      referrer: document.referrer || "",
      user_agent: navigator.userAgent,
      page: { url: location.href, title: document.title }
    }, pendingContext, extra || {});
    pendingContext = {};
    return api("POST", "/context", body);
  }

  // ------------------------------------------------------------------ rendering
  function emit(name, detail) {
    try { window.dispatchEvent(new CustomEvent("baton:" + name, { detail: detail })); } catch (e) { /* old browsers */ }
  }

  function resetView() {
    S.conv = null; S.messages.clear(); S.pending.clear(); S.lastSeq = 0; S.availability = null; S.csatScore = 0;
    stopStream();
    render();
  }

  function authorKind(m) { return m.author && m.author.kind; }

  function renderMessage(m) {
    var kind = authorKind(m), body = m.body || {};
    if (body.type === "event") {
      var txt = body.text;
      if (body.event === "handoff") txt = t("handedOff");
      else if (body.event === "email_left" && body.data && body.data.email) txt = t("emailSaved", { email: body.data.email });
      else if (body.event === "resolved") txt = t("resolved");
      // A takeover carries the new agent's name; other assignment lines keep the server's text.
      else if (body.event === "agent_joined" || (body.event === "assigned" && body.data && body.data.name)) txt = t("joined", { name: (body.data && body.data.name) || t("agent") });
      else if (body.event === "handed_back") txt = t("handedBack");
      else if (body.event === "reopened") txt = t("reopened");
      else if (body.event === "reply_delayed") txt = t("delayed");
      else if (body.event === "reply_failed") txt = t("replyFailed");
      else if (body.event === "availability" && body.data && typeof body.data.online === "boolean") txt = availabilityText(body.data);
      return el("div", { class: "event", "data-seq": m.seq, text: txt });
    }
    var me = kind === "visitor";
    var wrap = el("div", { class: "msg " + (me ? "me" : "them"), "data-seq": m.seq });
    if (!me) {
      var meta = el("div", { class: "meta" });
      if (kind === "ai") meta.appendChild(el("span", { class: "tag", text: t("ai"), title: t("ai") }));
      meta.appendChild(document.createTextNode(kind === "agent" ? (m.author.name || t("agent")) : ((S.config && S.config.widget.team_name) || "")));
      wrap.appendChild(meta);
    } else {
      wrap.appendChild(el("span", { class: "sr", text: t("you") }));
    }
    var text = body.type === "answer" ? body.answer.text : body.text || "";
    var cites = body.type === "answer" ? body.answer.citations : [];
    var blocks = body.type === "answer" && body.answer.blocks;
    wrap.appendChild(el("div", { class: "bubble" }, [Array.isArray(blocks) && blocks.length ? renderBlocks(blocks, cites) : richText(text, cites)]));
    if (body.type === "answer") {
      if (cites && cites.length) {
        var listId = "src-" + m.seq;
        wrap.appendChild(el("div", { class: "sources-title", id: listId, text: t("sources") }));
        var ol = el("ol", { class: "sources", "aria-labelledby": listId });
        cites.forEach(function (c) {
          var href = safeUrl(c.url);
          var label = c.title + (c.section && c.section !== c.title ? " – " + c.section : "");
          ol.appendChild(el("li", { value: String(c.n) }, [href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: label }) : el("span", { text: label })]));
        });
        wrap.appendChild(ol);
      }
      wrap.appendChild(ratingRow(m));
    }
    return wrap;
  }

  function ratingRow(m) {
    var row = el("div", { class: "rating", role: "group", "aria-label": t("helpful") + " / " + t("notHelpful") });
    if (m.rating) row.appendChild(el("span", { text: t("thanksRating") }));
    [["helpful", ICON.up, t("helpful")], ["not_helpful", ICON.down, t("notHelpful")]].forEach(function (r) {
      var b = el("button", { type: "button", "aria-label": r[2], title: r[2], "aria-pressed": m.rating === r[0] ? "true" : "false", onclick: function () { rate(m, r[0]); } }, [svg(r[1])]);
      row.appendChild(b);
    });
    return row;
  }

  function render(keepScroll) {
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.textContent = "";
    var cfg = (S.config && S.config.widget) || {};
    log.appendChild(el("div", { class: "msg them" }, [
      el("div", { class: "meta" }, [el("span", { class: "tag", text: t("ai") }), cfg.team_name || ""]),
      el("div", { class: "bubble", text: cfg.greeting || t("greeting") })
    ]));
    var seqs = Array.from(S.messages.keys()).sort(function (a, b) { return a - b; });
    seqs.forEach(function (s) { log.appendChild(renderMessage(S.messages.get(s))); });
    S.pending.forEach(function (p, cid) {
      var w = el("div", { class: "msg me pending" }, [el("div", { class: "bubble", text: p.text })]);
      if (p.failed) {
        w.classList.remove("pending");
        w.appendChild(el("div", { class: "failed", role: "alert" }, [p.error || t("failed"), el("button", { class: "link", type: "button", text: t("retry"), onclick: function () { send(p.text, cid); } })]));
      }
      log.appendChild(w);
    });
    renderCards();
    renderState();
    if (atBottom || !keepScroll) log.scrollTop = log.scrollHeight;
  }

  var DEFAULT_PROMISE = "We usually reply within one business day.";
  /** The availability sentence in the visitor's language, from the server's facts. */
  function availabilityText(a) {
    if (!a) return "";
    var parts = [];
    if (a.online) {
      parts.push(a.typical_wait_secs == null ? t("teamSoon") : t("teamWait", { n: Math.max(1, Math.round(a.typical_wait_secs / 60)) }));
    } else if (!a.open_now && a.next_open) {
      var when = a.next_open;
      try { when = new Intl.DateTimeFormat(locale, { weekday: "long", hour: "2-digit", minute: "2-digit" }).format(new Date(a.next_open)); } catch (e) { /* keep ISO */ }
      parts.push(t("teamBack", { when: when }));
    } else {
      parts.push(t("teamAway"));
    }
    if (!a.online && a.reply_promise && (locale === "en" || a.reply_promise !== DEFAULT_PROMISE)) parts.push(a.reply_promise);
    if (a.ask_email) parts.push(t("leaveEmail"));
    return parts.join(" ");
  }

  function renderState() {
    var c = S.conv;
    var st = c && c.state;
    var line = "";
    if (st === "waiting_for_human") line = availabilityText(S.availability) || t("waiting");
    else if (st === "with_agent") line = t("joined", { name: c.agent_name || t("agent") });
    else if (st === "resolved") line = t("resolved");
    else if (S.availability && S.availability.online) line = availabilityText(S.availability);
    statusEl.textContent = line;
    talkBtn.hidden = st === "with_agent" || st === "waiting_for_human";
    typingEl.textContent = S.agentTyping ? t("typing", { name: S.agentTyping }) : (S.aiTyping ? t("aiTyping") : "");
  }

  function renderCards() {
    var c = S.conv;
    if (!c) return;
    // Cards are kept across renders so a half-typed email or comment survives live updates.
    var key = null, make = null;
    if (c.state === "waiting_for_human" && !c.follow_up_email && S.availability && S.availability.ask_email) { key = "email:" + c.id + locale; make = emailCard; }
    else if (c.state === "resolved" && !c.csat) { key = "csat:" + c.id + locale; make = csatCard; }
    else if (c.state === "resolved") { key = "thanks:" + c.id + locale; make = function () { return el("div", { class: "card" }, [el("p", { text: t("thanks") }), newConvButton()]); }; }
    if (!key) return;
    if (S.cardKey !== key) { S.cardKey = key; S.card = make(); }
    log.appendChild(S.card);
  }

  function emailCard() {
    var inp = el("input", { type: "email", id: "baton-email", required: true, autocomplete: "email", placeholder: "name@example.com" });
    var err = el("small", { role: "alert" });
    var f = el("form", { class: "card", "aria-labelledby": "baton-email-ask", onsubmit: function (e) {
      e.preventDefault();
      api("POST", "/follow-up", { email: inp.value.trim(), consent_text: t("consent") })
        .then(function (conv) { setConv(conv); render(); })
        .catch(function (x) { err.textContent = x.status === 422 ? t("badEmail") : x.message; });
    } }, [
      el("p", { id: "baton-email-ask", text: t("emailAsk") }),
      el("label", { class: "sr", for: "baton-email", text: t("email") }),
      inp,
      el("small", { text: t("consent") }),
      err,
      el("button", { class: "primary", type: "submit", text: t("emailSave") })
    ]);
    return f;
  }

  function csatCard() {
    var comment = el("textarea", { id: "baton-csat-comment", rows: "2" });
    var submit = el("button", { class: "primary", type: "submit", text: t("submit"), disabled: S.csatScore ? false : true });
    var stars = el("div", { class: "stars", role: "group", "aria-labelledby": "baton-rate" });
    for (var i = 1; i <= 5; i++) (function (n) {
      stars.appendChild(el("button", { type: "button", "aria-pressed": S.csatScore === n ? "true" : "false", "aria-label": t("star", { n: n }), text: String(n), onclick: function () {
        S.csatScore = n;
        Array.prototype.forEach.call(stars.children, function (b, j) { b.setAttribute("aria-pressed", j + 1 === n ? "true" : "false"); });
        submit.disabled = false;
      } }));
    })(i);
    return el("form", { class: "card", onsubmit: function (e) {
      e.preventDefault();
      if (!S.csatScore) return;
      api("POST", "/csat", { score: S.csatScore, comment: comment.value }).then(function (conv) { setConv(conv); render(); });
    } }, [el("p", { id: "baton-rate", text: t("rate") }), stars, el("label", { class: "sr", for: "baton-csat-comment", text: t("comment") }), comment, submit, newConvButton()]);
  }

  function newConvButton() {
    return el("button", { class: "link", type: "button", text: t("newConv"), onclick: function () { resetView(); input.focus(); } });
  }

  function updateBadge() {
    var read = Number(store.get("read") || 0), n = 0;
    if (!S.open) S.messages.forEach(function (m) {
      var k = authorKind(m);
      if (m.seq > read && (k === "ai" || k === "agent")) n++;
    });
    badge.hidden = n === 0;
    badge.textContent = n > 9 ? "9+" : String(n);
    launcher.setAttribute("aria-label", (S.open ? t("close") : t("open")) + (n ? ", " + t("unread", { n: n }) : ""));
  }

  function markRead() {
    if (S.open && S.lastSeq) store.set("read", String(S.lastSeq));
    updateBadge();
  }

  // ------------------------------------------------------------------ conversation state
  function setConv(conv) {
    var prev = S.conv;
    if (prev && conv && prev.id !== conv.id) { S.messages.clear(); S.lastSeq = 0; S.availability = null; store.set("read", "0"); }
    S.conv = conv;
    if (conv) store.set("conv", conv.id);
    var before = prev && prev.state;
    if (conv && before !== conv.state && (conv.state === "waiting_for_human" || conv.state === "with_agent" || (before && conv.state === "resolved"))) {
      emit("handoff", { state: conv.state, agent: conv.agent_name });
      if (conv.state === "waiting_for_human") loadAvailability();
    }
    if (conv && conv.state !== "bot" && conv.state !== "waiting_for_human") S.aiTyping = null;
  }

  function addMessage(m, live) {
    if (S.messages.has(m.seq) && !live) return;
    var isNew = !S.messages.has(m.seq);
    S.messages.set(m.seq, m);
    if (m.client_id && S.pending.has(m.client_id)) S.pending.delete(m.client_id);
    if (m.seq > S.lastSeq) S.lastSeq = m.seq;
    var k = authorKind(m);
    if (k === "ai" || (m.body && m.body.type === "event" && m.body.event === "handoff")) { clearTimeout(S.aiTyping); S.aiTyping = null; }
    if (k === "agent") S.agentTyping = null;
    if (m.body && m.body.type === "event" && m.body.event === "availability" && m.body.data) S.availability = m.body.data;
    if (isNew && live) emit("message", m);
  }

  function loadAvailability() {
    var tz = (Intl.DateTimeFormat().resolvedOptions().timeZone) || "";
    fetch(BASE + "/api/widget/availability?tz=" + encodeURIComponent(tz), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) { if (a) { S.availability = a; render(); } })
      .catch(function () { /* optional */ });
  }

  function loadConversation() {
    return api("GET", "/conversation").then(function (v) {
      if (!v.conversation) { resetView(); return; }
      setConv(v.conversation);
      v.messages.forEach(function (m) { addMessage(m, false); });
      render();
      markRead();
      startStream();
    });
  }

  // ------------------------------------------------------------------ live stream
  function stopStream() {
    if (S.es) { S.es.close(); S.es = null; }
    clearTimeout(S.reconnectTimer);
  }

  function startStream() {
    stopStream();
    if (!S.token || !S.conv) return;
    var url = BASE + "/api/widget/stream?token=" + encodeURIComponent(S.token) + "&last_event_id=" + S.lastSeq + "&conversation=" + encodeURIComponent(S.conv.id);
    var es = new EventSource(url);
    S.es = es;
    es.addEventListener("hello", function (e) {
      S.backoff = 1000;
      var d = JSON.parse(e.data);
      if (d.conversation && S.conv && d.conversation.id !== S.conv.id) { S.messages.clear(); S.lastSeq = 0; }
      setConv(d.conversation);
      if (S.conv && S.conv.state === "waiting_for_human" && !S.availability) loadAvailability();
      render();
    });
    es.addEventListener("message", function (e) {
      var d = JSON.parse(e.data);
      if (d.message) { addMessage(d.message, true); render(); markRead(); }
    });
    es.addEventListener("conversation", function (e) {
      var d = JSON.parse(e.data);
      if (d.conversation) { setConv(d.conversation); render(); }
    });
    es.addEventListener("typing", function (e) {
      var d = JSON.parse(e.data).typing || {};
      clearTimeout(S.agentTypingTimer);
      S.agentTyping = d.typing ? (d.name || t("agent")) : null;
      if (d.typing) S.agentTypingTimer = setTimeout(function () { S.agentTyping = null; renderState(); }, 8000);
      renderState();
    });
    es.onerror = function () {
      // Reconnects are ours (EventSource's own give up on a restart): resume from the last
      // seq rendered, with exponential backoff and jitter.
      if (S.es === es) scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    stopStream();
    statusEl.textContent = t("reconnecting");
    var wait = Math.min(S.backoff, 30000) * (0.75 + Math.random() * 0.5);
    S.backoff = Math.min(S.backoff * 2, 30000);
    S.reconnectTimer = setTimeout(startStream, wait);
  }

  window.addEventListener("online", function () { if (S.conv && !S.es) { S.backoff = 1000; startStream(); } });

  // ------------------------------------------------------------------ actions
  var typingSent = 0, typingStop = null;
  function typingPing() {
    if (!S.conv || S.conv.state === "resolved") return;
    var now = Date.now();
    if (now - typingSent > 3000) { typingSent = now; api("POST", "/typing", { typing: true }).catch(function () {}); }
    clearTimeout(typingStop);
    typingStop = setTimeout(function () { typingSent = 0; api("POST", "/typing", { typing: false }).catch(function () {}); }, 4000);
  }

  function sendFromInput() {
    var text = input.value.trim();
    if (!text) return;
    input.value = ""; input.style.height = "auto";
    send(text);
  }

  function cid() { return "w" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }

  function send(text, clientId) {
    clientId = clientId || cid();
    // After resolution the next message starts a new conversation.
    if (S.conv && S.conv.state === "resolved") resetView();
    S.pending.set(clientId, { text: text, failed: false });
    render();
    clearTimeout(typingStop); typingSent = 0;
    return ensureSession()
      .then(function () { return api("POST", "/messages", { text: text, client_id: clientId, page: { url: location.href, title: document.title } }); })
      .then(function (r) {
        var fresh = !S.conv || S.conv.id !== r.conversation.id;
        setConv(r.conversation);
        addMessage(r.message, false);
        if (r.conversation.state === "bot" || r.conversation.state === "waiting_for_human") {
          clearTimeout(S.aiTyping);
          S.aiTyping = setTimeout(function () { S.aiTyping = null; renderState(); }, 25000);
        }
        render();
        markRead();
        if (fresh || !S.es) startStream();
      })
      .catch(function (e) {
        var p = S.pending.get(clientId);
        if (p) { p.failed = true; p.error = e.status === 429 ? t("tooMany", { s: e.retryAfter || 60 }) : (e.status && e.status < 500 ? e.message : t("failed")); }
        render();
      });
  }

  function rate(m, rating) {
    api("POST", "/messages/" + m.seq + "/rating", { rating: rating }).then(function (upd) {
      S.messages.set(upd.seq, upd); render();
    }).catch(function () {});
  }

  function talkToTeam() {
    open();
    return ensureSession().then(function () { return api("POST", "/handoff", {}); }).then(function (conv) {
      var fresh = !S.conv || S.conv.id !== conv.id;
      setConv(conv);
      render();
      if (fresh || !S.es) startStream();
      return conv;
    });
  }

  function open() {
    if (S.open) return;
    S.open = true;
    try { sessionStorage.setItem(KEY + "open", "1"); } catch (e) { /* ignore */ }
    panel.hidden = false;
    root.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.replaceChild(svg(ICON.close), launcher.firstChild);
    applyStaticTexts();
    render();
    markRead();
    setTimeout(function () { input.focus(); }, 0);
  }

  function close() {
    if (!S.open) return;
    S.open = false;
    try { sessionStorage.removeItem(KEY + "open"); } catch (e) { /* ignore */ }
    panel.hidden = true;
    root.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.replaceChild(svg(ICON.chat), launcher.firstChild);
    applyStaticTexts();
    launcher.focus();
  }

  function toggle() { if (S.open) close(); else open(); }

  // ------------------------------------------------------------------ SDK
  function identify(u, identityHash) {
    u = u || {};
    var attrs = {};
    Object.keys(u).forEach(function (k) { if (["id", "user_id", "email", "name", "identityHash", "signature"].indexOf(k) < 0) attrs[k] = u[k]; });
    var ident = { user_id: String(u.id || u.user_id || ""), email: u.email || "", name: u.name || "", identity_hash: identityHash || u.identityHash || u.signature || "", attributes: attrs };
    return whenReady().then(function () { return api("POST", "/context", { identify: ident }); }).catch(function (e) {
      console.warn("Baton.identify was refused: " + e.message);
      throw e;
    });
  }

  function setAttributes(attrs) {
    return whenReady().then(function () { return api("POST", "/context", { attributes: attrs || {} }); });
  }

  function setLocale(code) {
    locale = pickLocale(code);
    applyStaticTexts();
    render();
    if (S.token) api("POST", "/context", { locale: locale }).catch(function () {});
    return locale;
  }

  function reset() {
    stopStream();
    S.token = null;
    ["token", "conv", "read"].forEach(function (k) { store.set(k, null); });
    resetView();
  }

  var readyResolve;
  var readyPromise = new Promise(function (r) { readyResolve = r; });
  function whenReady() { return readyPromise.then(ensureSession); }

  window.Baton = {
    __baton: true,
    open: open,
    close: close,
    toggle: toggle,
    identify: identify,
    setAttributes: setAttributes,
    setLocale: setLocale,
    reset: reset,
    talkToTeam: talkToTeam,
    get locale() { return locale; },
    /** True once the widget has loaded its settings and the visitor's conversation. */
    get ready() { return S.ready; }
  };

  // ------------------------------------------------------------------ start
  function boot() {
    (document.body || document.documentElement).appendChild(host);
    applyLook(); applyStaticTexts(); render();
    var resume = null;
    try { resume = new URL(location.href).searchParams.get("baton_resume"); } catch (e) { /* ignore */ }
    fetch(BASE + "/api/widget/config", { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; })
      .then(function (cfg) {
        S.config = cfg || { widget: {} };
        if (cfg && cfg.max_message_chars) input.setAttribute("maxlength", String(cfg.max_message_chars));
        applyLook(); applyStaticTexts(); render();
        if (resume) {
          return api("POST", "/resume", { resume: resume }).then(function (s) {
            S.token = s.token; store.set("token", s.token);
            var u = new URL(location.href); u.searchParams.delete("baton_resume");
            history.replaceState(history.state, "", u.href);
            S.openAfterBoot = true;
          }).catch(function (e) { console.warn("Baton: " + e.message); });
        }
      })
      .then(function () {
        if (!S.token) return;
        return sendContext().then(loadConversation);
      })
      .catch(function (e) { console.warn("Baton: " + (e && e.message)); })
      .then(function () {
        S.ready = true;
        readyResolve();
        var wasOpen = false;
        try { wasOpen = sessionStorage.getItem(KEY + "open") === "1"; } catch (e) { /* ignore */ }
        if (S.openAfterBoot || wasOpen || user.open || ds.open === "true") open();
        emit("ready", { locale: locale });
      });
  }
  if (document.body) boot(); else document.addEventListener("DOMContentLoaded", boot);
})();
