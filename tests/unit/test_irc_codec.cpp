// The IRC codec, lines in (src/door/irc.cpp): registration, and what each
// command becomes for the hub or is answered by the codec itself, exactly.
#include <catch2/catch.hpp>

#include "irc_client.hpp"

namespace {

using namespace irc_test;

TEST_CASE("IRC: NICK and USER register, and welcome is the whole burst", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.send("PASS :s3cret");
  c.send("NICK alice");
  CHECK(c.sink.all.empty());
  c.send("USER alice 0 * :Alice Liddell");
  const auto commands = c.sink.commands();
  REQUIRE(commands.size() == 1);
  CHECK(commands[0].kind == CommandKind::kRegister);
  CHECK(commands[0].target == "alice");
  CHECK(commands[0].password == "s3cret");
  CHECK_FALSE(c.codec.registered());

  auto welcome = uvchat::chat::make_event(EventKind::kWelcome);
  welcome->name = "alice";
  welcome->count = 3;
  CHECK(c.see(welcome) ==
        ":irc.test 001 alice :Welcome to the TestNet IRC network, alice\r\n"
        ":irc.test 002 alice :Your host is irc.test, running version uvchat-1\r\n"
        ":irc.test 003 alice :This server does not say when it was created\r\n"
        ":irc.test 004 alice irc.test uvchat-1\r\n"
        ":irc.test 005 alice CASEMAPPING=ascii CHANTYPES=# NICKLEN=32 CHANNELLEN=33 PREFIX=() CHANMODES=,,, "
        "CHANLIMIT=#: TARGMAX=PRIVMSG:10,NOTICE:10,JOIN:10,PART:10,NAMES:10,WHOIS:1 UTF8ONLY NETWORK=TestNet "
        ":are supported by this server\r\n"
        ":irc.test 251 alice :There are 3 users and 0 invisible on 1 servers\r\n"
        ":irc.test 255 alice :I have 3 clients and 0 servers\r\n"
        ":irc.test 422 alice :MOTD File is missing\r\n");
  CHECK(c.codec.registered());
  CHECK(c.codec.nick() == "alice");
}

TEST_CASE("IRC: CAP LS holds registration until CAP END", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.send("CAP LS 302");
  c.send("NICK alice");
  c.send("USER alice 0 * :Alice");
  CHECK(c.sink.commands().empty());
  CHECK(c.sink.replies() == ":irc.test CAP * LS :server-time\r\n");
  c.sink.clear();

  c.send("CAP REQ :server-time");
  CHECK(c.sink.replies() == ":irc.test CAP * ACK :server-time\r\n");
  CHECK(c.sink.commands().empty());
  CHECK(c.codec.server_time());
  c.sink.clear();

  c.send("CAP END");
  const auto commands = c.sink.commands();
  REQUIRE(commands.size() == 1);
  CHECK(commands[0].kind == CommandKind::kRegister);
  CHECK(commands[0].target == "alice");
  CHECK(commands[0].password.empty());
}

TEST_CASE("IRC: CAP REQ is all or nothing, and CAP LIST says what was taken", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.send("CAP REQ :server-time sasl");
  CHECK(c.sink.replies() == ":irc.test CAP * NAK :server-time sasl\r\n");
  CHECK_FALSE(c.codec.server_time());
  c.sink.clear();
  c.send("CAP LIST");
  CHECK(c.sink.replies() == ":irc.test CAP * LIST :\r\n");
  c.sink.clear();
  c.send("cap bogus");
  CHECK(c.sink.replies() == ":irc.test 410 * bogus :Invalid CAP command\r\n");
}

TEST_CASE("IRC: before registration only registration lines pass; the rest get 451", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.send("JOIN :");  // irssi's probe
  c.send("PRIVMSG bob :hi");
  CHECK(c.sink.commands().empty());
  CHECK(c.sink.replies() ==
        ":irc.test 451 * :You have not registered\r\n"
        ":irc.test 451 * :You have not registered\r\n");
  c.sink.clear();
  c.send("PING :abc def");
  CHECK(c.sink.replies() == ":irc.test PONG irc.test :abc def\r\n");
  c.sink.clear();
  c.send("@label=x :someone!x@y ping token");
  CHECK(c.sink.replies() == ":irc.test PONG irc.test :token\r\n");
}

TEST_CASE("IRC: a bad or reserved nick gets 432 and registers nothing", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.send("USER u 0 * :U");
  c.send("NICK bad!nick");
  c.send("NICK server");
  CHECK(c.sink.commands().empty());
  const std::string replies = c.sink.replies();
  CHECK(replies.starts_with(":irc.test 432 * bad!nick :Erroneous nickname"));
  CHECK(replies.find(":irc.test 432 * server :") != std::string::npos);
  c.sink.clear();
  c.send("NICK");
  CHECK(c.sink.replies() == ":irc.test 431 * :No nickname given\r\n");
}

TEST_CASE("IRC: a taken nick gets 433, and the next NICK registers again", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.send("NICK alice");
  c.send("USER u 0 * :U");
  REQUIRE(c.sink.commands().size() == 1);
  CHECK(c.see(error(ErrorCode::kNameTaken, "alice")) == ":irc.test 433 * alice :Nickname is already in use\r\n");
  c.sink.clear();
  c.send("NICK alice_");
  const auto commands = c.sink.commands();
  REQUIRE(commands.size() == 1);
  CHECK(commands[0].kind == CommandKind::kRegister);
  CHECK(commands[0].target == "alice_");
}

TEST_CASE("IRC: a wrong password gets 464, and PASS then NICK try again", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.send("PASS wrong");
  c.send("NICK alice");
  c.send("USER u 0 * :U");
  CHECK(c.see(error(ErrorCode::kWrongPassword, "alice")) ==
        ":irc.test 464 * :Password incorrect for alice\r\n");
  CHECK_FALSE(c.codec.registered());
  c.sink.clear();
  c.send("PASS right");
  c.send("NICK alice");
  const auto commands = c.sink.commands();
  REQUIRE(commands.size() == 1);
  CHECK(commands[0].password == "right");
}

TEST_CASE("IRC: once registered, NICK is refused, USER and PASS get 462", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("NICK bob");
  c.send("NICK alice");  // the same nick: nothing to say
  c.send("USER u 0 * :U");
  c.send("PASS x");
  CHECK(c.sink.commands().empty());
  CHECK(c.sink.replies() ==
        ":irc.test 447 alice :You cannot change your nick here: it is your uvchat name\r\n"
        ":irc.test 462 alice :You may not reregister\r\n"
        ":irc.test 462 alice :You may not reregister\r\n");
}

TEST_CASE("IRC: PRIVMSG to nicks, rooms and $* becomes DMs, room lines and broadcasts", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("PRIVMSG bob :hello there");
  c.send("privmsg #team,carol :: both");
  c.send("PRIVMSG $* :everyone");
  const auto commands = c.sink.commands();
  REQUIRE(commands.size() == 4);
  CHECK(commands[0].kind == CommandKind::kDirect);
  CHECK(commands[0].target == "bob");
  CHECK(commands[0].text == "hello there");
  CHECK(commands[1].kind == CommandKind::kRoom);
  CHECK(commands[1].target == "team");
  CHECK(commands[1].text == ": both");
  CHECK(commands[2].kind == CommandKind::kDirect);
  CHECK(commands[2].target == "carol");
  CHECK(commands[3].kind == CommandKind::kBroadcast);
  CHECK(commands[3].text == "everyone");
  CHECK(c.sink.replies().empty());
}

TEST_CASE("IRC: PRIVMSG errors come from the codec; NOTICE gets none", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("PRIVMSG bad!nick :x");
  c.send("PRIVMSG #b@d :x");
  c.send("PRIVMSG bob :");
  c.send("PRIVMSG bob");
  c.send("PRIVMSG a,b,c,d,e,f,g,h,i,j,k :x");
  CHECK(c.sink.commands().empty());
  CHECK(c.sink.replies() ==
        ":irc.test 401 alice bad!nick :No such nick/channel\r\n"
        ":irc.test 403 alice #b@d :No such channel\r\n"
        ":irc.test 412 alice :No text to send\r\n"
        ":irc.test 412 alice :No text to send\r\n"
        ":irc.test 407 alice a,b,c,d,e,f,g,h,i,j,k :Too many targets\r\n");
  c.sink.clear();

  c.send("NOTICE bad!nick :x");
  c.send("NOTICE bob :");
  CHECK(c.sink.all.empty());
  c.send("NOTICE bob :psst");
  REQUIRE(c.sink.all.size() == 3);
  CHECK(c.sink.all[1].kind == CommandKind::kDirect);
  // The hub's answers to the NOTICE come back between the markers, and
  // are not shown; after them, errors are shown again.
  auto marker = [](std::string_view text) {
    auto event = uvchat::chat::make_event(EventKind::kReply);
    event->set_text(std::string(text));
    return event;
  };
  CHECK(c.see(marker(c.sink.all[0].lines)).empty());
  CHECK(c.see(error(ErrorCode::kNoSuchUser, "bob")).empty());
  CHECK(c.see(marker(c.sink.all[2].lines)).empty());
  CHECK(c.see(error(ErrorCode::kNoSuchUser, "bob")) == ":irc.test 401 alice bob :No such nick/channel\r\n");
}

TEST_CASE("IRC: JOIN asks the hub per room, and its members come as NAMES", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("JOIN #team,#b@d,#ops secretkey");
  const auto commands = c.sink.commands();
  REQUIRE(commands.size() == 2);
  CHECK(commands[0].kind == CommandKind::kJoin);
  CHECK(commands[0].target == "team");
  CHECK(commands[1].target == "ops");
  CHECK(c.sink.replies().starts_with(":irc.test 403 alice #b@d :No such channel"));

  CHECK(c.see(room_event(EventKind::kJoined, "team", "alice")) == ":alice!alice@irc.test JOIN #team\r\n");
  auto members = room_event(EventKind::kMembers, "team", "");
  members->names = {"alice", "bob"};
  CHECK(c.see(members) ==
        ":irc.test 353 alice = #team :alice bob\r\n"
        ":irc.test 366 alice #team :End of /NAMES list\r\n");
  CHECK(c.see(room_event(EventKind::kLeft, "team", "bob")) == ":bob!bob@irc.test PART #team\r\n");
  auto quit = room_event(EventKind::kLeft, "team", "bob");
  quit->quit = true;
  CHECK(c.see(quit) == ":bob!bob@irc.test QUIT :offline\r\n");

  // JOIN 0 leaves the rooms the client was told it joined.
  c.sink.clear();
  c.send("JOIN 0");
  const auto leaves = c.sink.commands();
  REQUIRE(leaves.size() == 1);
  CHECK(leaves[0].kind == CommandKind::kLeave);
  CHECK(leaves[0].target == "team");
}

TEST_CASE("IRC: NAMES and WHO #room are answered in the order asked, each in its form", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("WHO #team");
  c.send("NAMES #team");
  const auto commands = c.sink.commands();
  REQUIRE(commands.size() == 2);
  CHECK(commands[0].kind == CommandKind::kMembers);
  CHECK(commands[1].kind == CommandKind::kMembers);
  auto members = room_event(EventKind::kMembers, "team", "");
  members->names = {"alice", "bob"};
  CHECK(c.see(members) ==
        ":irc.test 352 alice #team alice irc.test irc.test alice H :0 alice\r\n"
        ":irc.test 352 alice #team bob irc.test irc.test bob H :0 bob\r\n"
        ":irc.test 315 alice #team :End of /WHO list\r\n");
  CHECK(c.see(members) ==
        ":irc.test 353 alice = #team :alice bob\r\n"
        ":irc.test 366 alice #team :End of /NAMES list\r\n");
  // A room nobody is in: no names, the end all the same.
  auto empty = room_event(EventKind::kMembers, "void", "");
  CHECK(c.see(empty) == ":irc.test 366 alice #void :End of /NAMES list\r\n");
}

TEST_CASE("IRC: NAMES of a crowded room fills lines up to 512 bytes", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  auto members = room_event(EventKind::kMembers, "big", "");
  for (int i = 0; i < 200; ++i) members->names.push_back("user" + std::to_string(i));
  const std::string lines = c.see(members);
  std::size_t start = 0;
  std::size_t names_lines = 0;
  while (start < lines.size()) {
    const std::size_t end = lines.find("\r\n", start);
    CHECK(end - start + 2 <= IrcCodec::kMaxLine);
    if (lines.compare(start, 14, ":irc.test 353 ") == 0) ++names_lines;
    start = end + 2;
  }
  CHECK(names_lines == 4);
}

TEST_CASE("IRC: WHOIS and WHO nick pick from the users online", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("WHOIS Bob");
  c.send("WHOIS carol");
  c.send("WHO bob");
  REQUIRE(c.sink.commands().size() == 3);
  CHECK(c.sink.commands()[0].kind == CommandKind::kWho);
  auto users = uvchat::chat::make_event(EventKind::kUsers);
  users->names = {"alice", "bob"};
  const uvchat::chat::EventRef online = users;
  CHECK(c.see(online) ==
        ":irc.test 311 alice bob bob irc.test * :bob\r\n"
        ":irc.test 312 alice bob irc.test :TestNet\r\n"
        ":irc.test 318 alice Bob :End of /WHOIS list\r\n");
  CHECK(c.see(online) ==
        ":irc.test 401 alice carol :No such nick/channel\r\n"
        ":irc.test 318 alice carol :End of /WHOIS list\r\n");
  CHECK(c.see(online) ==
        ":irc.test 352 alice * bob irc.test irc.test bob H :0 bob\r\n"
        ":irc.test 315 alice bob :End of /WHO list\r\n");
}

TEST_CASE("IRC: LIST shows every room with its count", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("LIST");
  REQUIRE(c.sink.commands().size() == 1);
  CHECK(c.sink.commands()[0].kind == CommandKind::kRooms);
  auto rooms = uvchat::chat::make_event(EventKind::kRooms);
  rooms->names = {"ops", "team"};
  rooms->counts = {1, 4};
  CHECK(c.see(rooms) ==
        ":irc.test 321 alice Channel :Users  Name\r\n"
        ":irc.test 322 alice #ops 1 :\r\n"
        ":irc.test 322 alice #team 4 :\r\n"
        ":irc.test 323 alice :End of /LIST\r\n");
}

TEST_CASE("IRC: MODE and TOPIC get the calm answers", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("MODE alice +i");
  c.send("MODE #team");
  c.send("MODE #team b");
  c.send("MODE #team +o bob");
  c.send("MODE bob");
  c.send("TOPIC #team");
  c.send("TOPIC #team :new topic");
  c.send("FROB x");
  CHECK(c.sink.commands().empty());
  CHECK(c.sink.replies() ==
        ":irc.test 221 alice +\r\n"
        ":irc.test 324 alice #team +\r\n"
        ":irc.test 368 alice #team :End of channel ban list\r\n"
        ":irc.test 482 alice #team :Rooms have no modes here, and no operators\r\n"
        ":irc.test 502 alice :Can't change mode for other users\r\n"
        ":irc.test 331 alice #team :No topic is set\r\n"
        ":irc.test 482 alice #team :Rooms have no topics here\r\n"
        ":irc.test 421 alice FROB :Unknown command\r\n");
}

}  // namespace
